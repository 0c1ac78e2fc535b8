/**
 * A supervised Responses event stream → Chat Completions stream frames
 * (`chat.completion.chunk` objects, then `[DONE]`; docs/protocol.md §9).
 *
 * Every chunk carries the same `id` (`chatcmpl-…` from the response id) and `created`, the
 * client's model name and one choice (index 0). The first delta has `role: "assistant"`. Then,
 * in the order the upstream streams them: `content` (output text), `refusal`,
 * `reasoning_content` (reasoning summaries, the DeepSeek convention; parts separated by a blank
 * line), and `tool_calls` fragments: a call's first fragment has its `index` (0, 1, … in order of
 * appearance across the response), `id` (the call id), `type` and `function.name`, later ones
 * only `index` and a piece of `function.arguments` — each fragment is routed by its item, so
 * calls whose events interleave stay apart. The last choice chunk has an empty delta and the
 * `finish_reason`; with `stream_options.include_usage` one more chunk with `choices: []` and the
 * usage follows; then `[DONE]`.
 *
 * A failure (the supervisor turns every one into `response.failed`) ends the stream with one
 * frame `{"error": {message, type, code, param}}` and no `[DONE]`: the `openai` SDKs raise an
 * `APIError` on a frame with an `error` field (openai-node `src/core/streaming.ts`,
 * `Stream.fromSSEResponse`), where a stream that merely stopped would look complete.
 *
 * Items whose parts never streamed (a backend that skipped the deltas) are emitted whole at
 * `output_item.done`, from the non-streaming translator's pieces, so both paths carry the same
 * content.
 */
import { errorFromFailedResponse } from "../../streams/aggregate-response";
import { mapReader, type EventBatch, type EventReader, type PullReader } from "../../streams/event-reader";
import { eventPayload, isRecord, type ResponsesEvent, type ResponsesEventPayload } from "../../streams/responses-event";
import { encodeDataOnlyBatch, encodeSseComment } from "../../streams/sse-writer";
import { GatewayError } from "../../errors/gateway-error";
import { openAiErrorBody } from "../../errors/render-openai-error";
import { chatAnnotations, chatCompletionId, createdAt, messageParts, reasoningSummaryText, toolCallOf } from "./convert-responses-response";
import { chatUsage } from "./convert-usage";
import { mapFinishReason } from "./map-finish-reason";

/** A chunk, an error frame, or the `[DONE]` sentinel. */
export type ChatStreamFrame = Record<string, unknown> | "[DONE]";

export interface ChatStreamOptions {
  /** The model name the client asked for. */
  model: string;
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
}

/** A batch of frames as one network write: `data: <json>` lines, no `event:` lines. */
export function encodeChatFrames(frames: readonly ChatStreamFrame[]): Uint8Array {
  return encodeDataOnlyBatch(frames.map((frame) => (frame === "[DONE]" ? frame : JSON.stringify(frame))));
}

/** An SSE comment: every Chat Completions client's SSE parser skips it; idle proxies see bytes. */
export function encodeChatKeepalive(): Uint8Array {
  return encodeSseComment("keepalive");
}

export function chatFramesFromResponses(source: EventReader, options: ChatStreamOptions): PullReader<ChatStreamFrame[]> {
  const translator = new ResponsesToChat(options);
  const nonEmpty = (frames: ChatStreamFrame[]) => (frames.length > 0 ? frames : undefined);
  return mapReader(source, {
    map: (batch: EventBatch) => nonEmpty(translator.translate(batch)),
    finish: () => nonEmpty(translator.finish()),
  });
}

interface ToolCallState {
  index: number;
  /** The arguments (or custom input) sent so far. */
  sent: string;
  kind: "function" | "custom";
}

class ResponsesToChat {
  readonly #options: ChatStreamOptions;
  #status: "waiting" | "streaming" | "ended" = "waiting";
  #frames: ChatStreamFrame[] = [];
  #id = "";
  #created = 0;
  /** Tool calls by item, numbered in order of appearance. */
  #toolCalls = new Map<string, ToolCallState>();
  /** Items announced by `output_item.added`: a call's first fragment needs its id and name. */
  #addedItems = new Map<string, Record<string, unknown>>();
  /** Text sent per content part (`item:content_index`), to fill from `.done` when no delta came. */
  #partsSent = new Map<string, string>();
  /** Reasoning items with summary text sent, and the summary part last streamed for each. */
  #summaryIndex = new Map<string, number>();
  /** Length of all `content` sent, to place annotations of later parts. */
  #contentLength = 0;
  #annotations: Record<string, unknown>[] = [];
  /** `output_item.done` items, for the finish reason when the terminal `output` is empty (§1). */
  #doneItems: unknown[] = [];

  constructor(options: ChatStreamOptions) {
    this.#options = options;
  }

  translate(batch: EventBatch): ChatStreamFrame[] {
    for (const event of batch) {
      // Anything after the end is dropped: the client has its last frame already.
      if (this.#status === "ended") break;
      this.#handle(event);
    }
    return this.#take();
  }

  /** The stream ended. Supervised input never ends without a terminal event; if it does, say so. */
  finish(): ChatStreamFrame[] {
    if (this.#status !== "ended") this.#fail(new GatewayError("upstream_disconnected", "The upstream stream ended before the response completed."));
    return this.#take();
  }

  #take(): ChatStreamFrame[] {
    const frames = this.#frames;
    this.#frames = [];
    return frames;
  }

  #handle(event: ResponsesEvent): void {
    switch (event.type) {
      case "response.created":
      case "response.in_progress":
        return this.#start(eventPayload(event).response);
      case "response.output_item.added":
        return this.#itemAdded(eventPayload(event));
      case "response.output_text.delta":
        return this.#text(eventPayload(event), "content", eventPayload(event).delta);
      case "response.output_text.done":
        return this.#fillText(eventPayload(event), "content", eventPayload(event).text);
      case "response.refusal.delta":
        return this.#text(eventPayload(event), "refusal", eventPayload(event).delta);
      case "response.refusal.done":
        return this.#fillText(eventPayload(event), "refusal", eventPayload(event).refusal);
      case "response.content_part.done": {
        const payload = eventPayload(event);
        const part = isRecord(payload.part) ? payload.part : {};
        if (part.type === "output_text") return this.#fillText(payload, "content", part.text);
        if (part.type === "refusal") return this.#fillText(payload, "refusal", part.refusal);
        return;
      }
      case "response.reasoning_summary_text.delta": {
        const payload = eventPayload(event);
        return this.#reasoning(itemKey(payload), payload.summary_index, payload.delta);
      }
      case "response.function_call_arguments.delta":
      case "response.custom_tool_call_input.delta":
        return this.#toolFragment(eventPayload(event), eventPayload(event).delta);
      case "response.function_call_arguments.done":
        return this.#fillTool(eventPayload(event), eventPayload(event).arguments);
      case "response.custom_tool_call_input.done":
        return this.#fillTool(eventPayload(event), eventPayload(event).input);
      case "response.output_item.done":
        return this.#itemDone(eventPayload(event));
      case "response.completed":
      case "response.incomplete":
        return this.#complete(eventPayload(event).response);
      case "response.failed": {
        const response = eventPayload(event).response;
        return this.#fail(errorFromFailedResponse(isRecord(response) ? response : {}));
      }
      default:
        // Progress events (web_search_call.searching, summary part boundaries, …) and backend
        // extras (codex.rate_limits, response.metadata) have no Chat Completions counterpart.
        return;
    }
  }

  #start(response: unknown): void {
    if (this.#status !== "waiting") return;
    this.#status = "streaming";
    const fields = isRecord(response) ? response : {};
    this.#id = chatCompletionId(fields.id);
    this.#created = createdAt(fields.created_at);
    this.#delta({ role: "assistant", content: "" });
  }

  #chunk(choices: unknown[], extra: Record<string, unknown> = {}): void {
    this.#frames.push({ id: this.#id, object: "chat.completion.chunk", created: this.#created, model: this.#options.model, choices, ...extra });
  }

  #delta(delta: Record<string, unknown>, finishReason: string | null = null): void {
    this.#start(undefined);
    this.#chunk([{ index: 0, delta, logprobs: null, finish_reason: finishReason }]);
  }

  #itemAdded(payload: ResponsesEventPayload): void {
    if (!isRecord(payload.item)) return;
    const key = itemKey(payload);
    this.#addedItems.set(key, payload.item);
    // A call's first fragment goes out at once, so that the client sees which tool is coming.
    if (payload.item.type === "function_call" || payload.item.type === "custom_tool_call") this.#toolCall(key);
  }

  #text(payload: ResponsesEventPayload, field: "content" | "refusal", text: unknown): void {
    if (typeof text !== "string" || text === "") return;
    const key = partKey(payload);
    this.#partsSent.set(key, (this.#partsSent.get(key) ?? "") + text);
    if (field === "content") this.#contentLength += text.length;
    this.#delta({ [field]: text });
  }

  /** The whole text from a `.done` event, when no delta carried any of it. */
  #fillText(payload: ResponsesEventPayload, field: "content" | "refusal", text: unknown): void {
    if (!this.#partsSent.get(partKey(payload))) this.#text(payload, field, text);
  }

  #reasoning(key: string, summaryIndex: unknown, text: unknown): void {
    if (typeof text !== "string" || text === "") return;
    const index = typeof summaryIndex === "number" ? summaryIndex : 0;
    const previous = this.#summaryIndex.get(key);
    this.#summaryIndex.set(key, index);
    // A new summary part, or the first of another reasoning item, reads as a new paragraph, as
    // in the non-streaming answer ("\n\n" joins).
    const paragraph = previous !== undefined ? previous !== index : this.#summaryIndex.size > 1;
    this.#delta({ reasoning_content: paragraph ? `\n\n${text}` : text });
  }

  /** The call's state; its first fragment (index, id, type, name) is sent when it is first seen. */
  #toolCall(key: string, fallback?: Record<string, unknown>): ToolCallState {
    const known = this.#toolCalls.get(key);
    if (known) return known;
    const item = this.#addedItems.get(key) ?? fallback ?? {};
    const call = toolCallOf(item);
    const kind = call.type === "custom" ? "custom" : "function";
    const state: ToolCallState = { index: this.#toolCalls.size, sent: "", kind };
    this.#toolCalls.set(key, state);
    const start = kind === "custom" ? { custom: { name: (call.custom as { name: string }).name, input: "" } } : { function: { name: (call.function as { name: string }).name, arguments: "" } };
    this.#delta({ tool_calls: [{ index: state.index, id: call.id, type: kind, ...start }] });
    return state;
  }

  #toolFragment(payload: ResponsesEventPayload, text: unknown, fallback?: Record<string, unknown>): void {
    const state = this.#toolCall(itemKey(payload), fallback ?? { type: "function_call", call_id: payload.item_id });
    if (typeof text !== "string" || text === "") return;
    state.sent += text;
    const piece = state.kind === "custom" ? { custom: { input: text } } : { function: { arguments: text } };
    this.#delta({ tool_calls: [{ index: state.index, ...piece }] });
  }

  #fillTool(payload: ResponsesEventPayload, text: unknown, fallback?: Record<string, unknown>): void {
    const state = this.#toolCalls.get(itemKey(payload));
    if (!state || state.sent === "") this.#toolFragment(payload, text, fallback);
  }

  #itemDone(payload: ResponsesEventPayload): void {
    const item = payload.item;
    if (!isRecord(item)) return;
    this.#doneItems.push(item);
    const key = itemKey(payload);
    switch (item.type) {
      case "reasoning":
        if (!this.#summaryIndex.has(key)) this.#reasoning(key, 0, reasoningSummaryText(item));
        return;
      case "message":
        return this.#messageDone(payload, item);
      case "function_call":
        return this.#fillTool(payload, item.arguments, item);
      case "custom_tool_call":
        return this.#fillTool(payload, item.input, item);
    }
  }

  #messageDone(payload: ResponsesEventPayload, item: Record<string, unknown>): void {
    const parts = messageParts(item);
    let itemLength = 0;
    for (const part of parts) {
      this.#fillText({ ...payload, content_index: part.contentIndex }, part.type === "text" ? "content" : "refusal", part.text);
      if (part.type === "text") itemLength += part.text.length;
    }
    // Annotations arrive whole with the item; their indices are moved to the whole content.
    let offset = this.#contentLength - itemLength;
    const annotations: Record<string, unknown>[] = [];
    for (const part of parts) {
      if (part.type !== "text") continue;
      annotations.push(...chatAnnotations(part.annotations, offset));
      offset += part.text.length;
    }
    if (annotations.length === 0) return;
    this.#annotations.push(...annotations);
    // Clients keep the last `annotations` they saw (the SDK assigns unknown delta fields), so
    // the list sent is always the whole list so far.
    this.#delta({ annotations: [...this.#annotations] });
  }

  #complete(response: unknown): void {
    const fields = isRecord(response) ? response : {};
    this.#start(fields);
    const output = Array.isArray(fields.output) && fields.output.length > 0 ? fields.output : this.#doneItems;
    this.#delta({}, mapFinishReason({ ...fields, output }));
    if (this.#options.includeUsage) this.#chunk([], { usage: chatUsage(fields.usage) });
    this.#frames.push("[DONE]");
    this.#status = "ended";
  }

  /** The in-band error that ends a Chat Completions stream: no finish chunk, no `[DONE]`. */
  #fail(error: GatewayError): void {
    this.#frames.push(chatErrorFrame(error));
    this.#status = "ended";
  }
}

/** `{"error": {message, type, code, param}}`, the shape of an OpenAI HTTP error body. */
export function chatErrorFrame(error: GatewayError): Record<string, unknown> {
  const body = openAiErrorBody(error);
  if (error.type === undefined) body.error.type = errorTypeForStatus(error.status);
  return body;
}

/** The OpenAI error type for a status, as `render-openai-error.ts` names the kinds. */
function errorTypeForStatus(status: number): string {
  if (status === 429) return "rate_limit_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
}

/** Which output item an event belongs to: its `output_index`, or its item id without one. */
function itemKey(payload: ResponsesEventPayload): string {
  if (typeof payload.output_index === "number") return `#${payload.output_index}`;
  const id = isRecord(payload.item) ? payload.item.id : payload.item_id;
  return typeof id === "string" ? id : "";
}

function partKey(payload: ResponsesEventPayload): string {
  return `${itemKey(payload)}:${typeof payload.content_index === "number" ? payload.content_index : 0}`;
}
