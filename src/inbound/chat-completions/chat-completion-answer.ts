/**
 * What the `/v1/chat/completions` route calls once it has a supervised Responses event stream
 * for a converted request (`convert-chat-request.ts`):
 *
 * ```ts
 * const converted = convertChatRequest(body);             // 400s name the field
 * const events = await limitChatOutput(supervised, converted);
 * converted.stream
 *   ? new Response(chatCompletionStream(events, { ...converted, keepaliveIntervalMs }), { headers: sseHeaders })
 *   : Response.json(await chatCompletionObject(events, converted));  // throws GatewayError on failure
 * ```
 */
import { aggregateResponse } from "../../streams/aggregate-response";
import type { EventReader } from "../../streams/event-reader";
import { encodeWithKeepalive } from "../../streams/keepalive-encoder";
import { cutAtOutputTokens } from "../../streams/output-token-limit";
import { cutAtStopSequences } from "../../streams/stop-sequences";
import { loadTokenCounter } from "../../shared/token-counter";
import type { ConvertedChatRequest } from "./convert-chat-request";
import { responseToChatCompletion } from "./convert-responses-response";
import { chatFramesFromResponses, encodeChatFrames, encodeChatKeepalive } from "./convert-responses-stream";

export interface OutputLimitHooks {
  /** A stop sequence ended the output (for the log). */
  onStop?(sequence: string): void;
}

/**
 * The gateway's own cuts, which the Responses API cannot do: `stop` sequences, and a
 * `max_tokens` below the upstream's floor of 16 (counted with the upstream's tokenizer).
 */
export async function limitChatOutput(
  events: EventReader,
  converted: Pick<ConvertedChatRequest, "stop" | "clientMaxTokens">,
  hooks: OutputLimitHooks = {},
): Promise<EventReader> {
  let limited = events;
  if (converted.stop.length > 0) limited = cutAtStopSequences(limited, converted.stop, hooks.onStop);
  if (converted.clientMaxTokens !== undefined) limited = cutAtOutputTokens(limited, converted.clientMaxTokens, await loadTokenCounter());
  return limited;
}

/** The SSE body for `stream: true`: chunks, keepalive comments while the upstream is silent, `[DONE]`. */
export function chatCompletionStream(
  events: EventReader,
  options: { model: string; includeUsage: boolean; keepaliveIntervalMs: number },
): ReadableStream<Uint8Array> {
  return encodeWithKeepalive(chatFramesFromResponses(events, options), {
    encode: encodeChatFrames,
    keepalive: encodeChatKeepalive,
    intervalMs: options.keepaliveIntervalMs,
  });
}

/** The `chat.completion` object for `stream: false`; a failed response throws its GatewayError. */
export async function chatCompletionObject(events: EventReader, options: { model: string }): Promise<Record<string, unknown>> {
  return responseToChatCompletion(await aggregateResponse(events), options);
}
