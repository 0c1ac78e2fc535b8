/**
 * What the `/v1/chat/completions` route calls once it has a supervised Responses event stream
 * for a converted request (`convert-chat-request.ts`):
 *
 * ```ts
 * const converted = convertChatRequest(body);             // 400s name the field
 * const events = limitChatOutput(supervised, converted);
 * converted.stream
 *   ? new Response(chatCompletionStream(events, { ...converted, keepaliveIntervalMs }), { headers: sseHeaders })
 *   : Response.json(await chatCompletionObject(events, converted));  // throws GatewayError on failure
 * ```
 */
import { aggregateResponse } from "../../streams/aggregate-response";
import { cutOutput } from "../../streams/cut-output";
import type { EventReader } from "../../streams/event-reader";
import { encodeWithKeepalive } from "../../streams/keepalive-encoder";
import type { ConvertedChatRequest } from "./convert-chat-request";
import { responseToChatCompletion } from "./convert-responses-response";
import { chatFramesFromResponses, encodeChatFrames, encodeChatKeepalive } from "./convert-responses-stream";

export interface OutputLimitHooks {
  /** The gateway cut the output: at a stop sequence, or (undefined) at the client's small limit. */
  onCut?(sequence: string | undefined): void;
}

/**
 * The gateway's own cuts, which the Responses API cannot do: `stop` sequences, and a
 * `max_tokens` below the upstream's floor of 16 (streams/cut-output.ts).
 */
export function limitChatOutput(events: EventReader, converted: Pick<ConvertedChatRequest, "stop" | "clientMaxTokens">, hooks: OutputLimitHooks = {}): EventReader {
  return cutOutput(events, { stopSequences: converted.stop, maxTextDeltas: converted.clientMaxTokens, onCut: hooks.onCut });
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
