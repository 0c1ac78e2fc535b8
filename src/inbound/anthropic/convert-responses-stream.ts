/**
 * A supervised Responses event stream → Anthropic Messages stream events
 * (https://docs.anthropic.com/en/api/messages-streaming).
 *
 * Anthropic's stream is one `message_start`, then content blocks, each `content_block_start` /
 * `content_block_delta`… / `content_block_stop` with its own index (0, 1, … in order of starting),
 * then `message_delta` (stop reason, usage) and `message_stop`; or an `error` event instead of the
 * end. Responses streams items one after another, so at most one block is open at a time here.
 *
 * The input is supervised (supervise-responses-events.ts): it ends with exactly one of
 * `response.completed`, `response.incomplete`, `response.failed`, and every failure arrives as
 * `response.failed`. Blocks open lazily on the first event that needs them; items whose parts
 * never streamed (web search; or a backend that skipped the deltas) are emitted whole at
 * `output_item.done`, built by the non-streaming translator, so both paths give the same content.
 */
import { eventPayload, isRecord, type ResponsesEvent, type ResponsesEventPayload } from "../../streams/responses-event";
import { mapReader, type EventBatch, type EventReader, type PullReader } from "../../streams/event-reader";
import { encodeResponsesBatch } from "../../streams/sse-writer";
import {
  anthropicMessageId,
  citationsFor,
  contentBlocksForItem,
  reasoningSummaryText,
  thinkingSignatureFor,
  type AnthropicContentBlock,
} from "./convert-responses-response";
import { anthropicUsage } from "./convert-usage";
import { mapStopReason } from "./map-stop-reason";

export interface AnthropicEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Allowed anywhere in an Anthropic stream; the caller sends it to keep idle connections open. */
export const anthropicPing: AnthropicEvent = Object.freeze({ event: "ping", data: Object.freeze({ type: "ping" }) });

/** A batch of events as one network write (`event: <name>\ndata: <json>\n\n` each). */
export function encodeAnthropicEvents(events: readonly AnthropicEvent[]): Uint8Array {
  return encodeResponsesBatch(events.map((event) => ({ type: event.event, data: JSON.stringify(event.data) })));
}

export function anthropicEventsFromResponses(source: EventReader, options: { model: string }): PullReader<AnthropicEvent[]> {
  const translator = new ResponsesToAnthropic(options.model);
  const nonEmpty = (events: AnthropicEvent[]) => (events.length > 0 ? events : undefined);
  return mapReader(source, {
    map: (batch: EventBatch) => nonEmpty(translator.translate(batch)),
    finish: () => nonEmpty(translator.finish()),
  });
}

/** The Anthropic error type a client retries or reports on, by Responses error code. */
const errorTypeByCode: ReadonlyMap<string, string> = new Map([
  ["server_is_overloaded", "overloaded_error"],
  ["slow_down", "overloaded_error"],
  ["rate_limit_exceeded", "rate_limit_error"],
  ["usage_limit_reached", "rate_limit_error"],
  ["insufficient_quota", "rate_limit_error"],
  ["context_length_exceeded", "invalid_request_error"],
  ["invalid_prompt", "invalid_request_error"],
]);

export function anthropicErrorType(code: unknown): string {
  return (typeof code === "string" && errorTypeByCode.get(code)) || "api_error";
}

/** Which delta type a block takes: `thinking_delta`, `text_delta` or `input_json_delta`. */
type BlockKind = "thinking" | "text" | "json" | "none";

interface OpenBlock {
  kind: BlockKind;
  /** The Responses part the block follows: an item, or one content part of a message item. */
  key: string;
  itemKey: string;
  index: number;
  /** What was streamed into the block so far (text, or tool arguments). */
  content: string;
  /** The reasoning summary part being streamed, to put a blank line between parts. */
  summaryIndex?: number;
  /** Where that part's text starts in `content` (after the blank line). */
  summaryStart?: number;
}

const emptyUsage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

class ResponsesToAnthropic {
  readonly #model: string;
  #status: "waiting" | "streaming" | "ended" = "waiting";
  #pending: AnthropicEvent[] = [];
  #nextIndex = 0;
  #open: OpenBlock | undefined;
  /** The item last announced by `output_item.added`: a tool block needs its call id and name. */
  #currentItem: { key: string; item: Record<string, unknown> } | undefined;
  #itemsWithBlocks = new Set<string>();
  /** `output_item.done` items, for the stop reason when the terminal `output` is empty (§1). */
  #doneItems: unknown[] = [];
  #refusalSeen = false;

  constructor(model: string) {
    this.#model = model;
  }

  translate(batch: EventBatch): AnthropicEvent[] {
    for (const event of batch) {
      // Anything after the end is dropped: the client has its terminal event already.
      if (this.#status === "ended") break;
      this.#handle(event);
    }
    return this.#takePending();
  }

  /** The stream ended. Supervised input never ends without a terminal event; if it does, say so. */
  finish(): AnthropicEvent[] {
    if (this.#status !== "ended") this.#fail(null, "The upstream stream ended before the response completed.");
    return this.#takePending();
  }

  #takePending(): AnthropicEvent[] {
    const events = this.#pending;
    this.#pending = [];
    return events;
  }

  #emit(event: string, data: Record<string, unknown>): void {
    this.#pending.push({ event, data: { type: event, ...data } });
  }

  #handle(event: ResponsesEvent): void {
    switch (event.type) {
      case "response.created":
      case "response.in_progress":
        return this.#start(eventPayload(event).response);
      case "response.output_item.added":
        return this.#itemAdded(eventPayload(event));
      case "response.reasoning_summary_part.added":
        return this.#summaryPart(this.#thinkingBlock(eventPayload(event)), eventPayload(event).summary_index);
      case "response.reasoning_summary_text.delta": {
        const payload = eventPayload(event);
        const block = this.#thinkingBlock(payload);
        this.#summaryPart(block, payload.summary_index);
        return this.#append(block, payload.delta);
      }
      case "response.reasoning_summary_text.done":
      case "response.reasoning_summary_part.done": {
        const payload = eventPayload(event);
        const text = event.type === "response.reasoning_summary_text.done" ? payload.text : isRecord(payload.part) ? payload.part.text : undefined;
        const block = this.#thinkingBlock(payload);
        this.#summaryPart(block, payload.summary_index);
        return this.#fill(block, text, block.summaryStart);
      }
      case "response.content_part.added":
        return this.#contentPart(eventPayload(event), "added");
      case "response.refusal.delta":
        this.#refusalSeen = true;
        return this.#append(this.#textBlock(eventPayload(event)), eventPayload(event).delta);
      case "response.output_text.delta":
        return this.#append(this.#textBlock(eventPayload(event)), eventPayload(event).delta);
      case "response.output_text.annotation.added":
        return this.#annotation(eventPayload(event));
      case "response.output_text.done":
        return this.#fill(this.#textBlock(eventPayload(event)), eventPayload(event).text);
      case "response.refusal.done":
        return this.#fill(this.#textBlock(eventPayload(event)), eventPayload(event).refusal);
      case "response.content_part.done":
        return this.#contentPart(eventPayload(event), "done");
      case "response.function_call_arguments.delta":
        return this.#append(this.#toolBlock(eventPayload(event)), eventPayload(event).delta);
      case "response.function_call_arguments.done":
        return this.#fill(this.#toolBlock(eventPayload(event)), eventPayload(event).arguments);
      case "response.output_item.done":
        return this.#itemDone(eventPayload(event));
      case "response.completed":
      case "response.incomplete":
        return this.#complete(eventPayload(event).response);
      case "response.failed": {
        const response = eventPayload(event).response;
        return this.#fail(isRecord(response) && isRecord(response.error) ? response.error : null);
      }
      default:
        // Progress events (web_search_call.searching, …) and backend extras (codex.rate_limits,
        // response.metadata) have no Anthropic counterpart.
        return;
    }
  }

  #start(response: unknown): void {
    if (this.#status !== "waiting") return;
    this.#status = "streaming";
    const id = anthropicMessageId(isRecord(response) ? response.id : undefined);
    const message = { id, type: "message", role: "assistant", model: this.#model, content: [], stop_reason: null, stop_sequence: null, usage: { ...emptyUsage } };
    this.#emit("message_start", { message });
  }

  #itemAdded(payload: ResponsesEventPayload): void {
    if (!isRecord(payload.item)) return;
    this.#currentItem = { key: itemKey(payload), item: payload.item };
    // A tool block opens at once, so that the client sees which tool is coming. Reasoning waits
    // for its first summary text: many reasoning items carry nothing to show (see #itemDone).
    if (payload.item.type === "function_call") this.#toolBlock(payload);
  }

  #contentPart(payload: ResponsesEventPayload, phase: "added" | "done"): void {
    const part = isRecord(payload.part) ? payload.part : {};
    if (part.type !== "output_text" && part.type !== "refusal") return;
    const block = this.#textBlock(payload);
    if (phase === "added") return;
    if (part.type === "refusal") this.#refusalSeen = true;
    this.#fill(block, part.type === "refusal" ? part.refusal : part.text);
    this.#close();
  }

  #annotation(payload: ResponsesEventPayload): void {
    const block = this.#textBlock(payload);
    for (const citation of citationsFor(payload.annotation, block.content)) {
      this.#emit("content_block_delta", { index: block.index, delta: { type: "citations_delta", citation } });
    }
  }

  #itemDone(payload: ResponsesEventPayload): void {
    const item = payload.item;
    if (!isRecord(item)) return;
    this.#doneItems.push(item);
    const key = itemKey(payload);
    if (!this.#itemsWithBlocks.has(key)) {
      // Nothing streamed for this item: a reasoning item without summary (its signature is still
      // worth sending), a web search, or parts whose deltas never came.
      for (const block of contentBlocksForItem(item)) this.#wholeBlock(key, block);
      return;
    }
    const open = this.#open;
    if (open?.itemKey !== key) return;
    if (open.kind === "thinking") {
      this.#fill(open, reasoningSummaryText(item));
      const signature = thinkingSignatureFor(item);
      if (signature) this.#emit("content_block_delta", { index: open.index, delta: { type: "signature_delta", signature } });
    } else if (open.kind === "json") {
      this.#fill(open, item.arguments);
    }
    this.#close();
  }

  #complete(response: unknown): void {
    const fields = isRecord(response) ? response : {};
    this.#start(fields);
    this.#close();
    const output = Array.isArray(fields.output) && fields.output.length > 0 ? fields.output : this.#doneItems;
    // `stop_sequence` is set by the gateway's own stop-sequence cut (streams/cut-output.ts).
    const stopSequence = typeof fields.stop_sequence === "string" ? fields.stop_sequence : undefined;
    let stopReason = mapStopReason({ ...fields, output }, stopSequence);
    if (stopReason === "end_turn" && this.#refusalSeen) stopReason = "refusal";
    this.#emit("message_delta", { delta: { stop_reason: stopReason, stop_sequence: stopSequence ?? null }, usage: anthropicUsage(fields.usage) });
    this.#emit("message_stop", {});
    this.#status = "ended";
  }

  /** The in-band error that ends an Anthropic stream; open blocks stay open, as Anthropic does. */
  #fail(error: Record<string, unknown> | null, fallbackMessage = "The upstream reported an error."): void {
    const message = error && typeof error.message === "string" && error.message ? error.message : fallbackMessage;
    this.#emit("error", { error: { type: anthropicErrorType(error?.code), message } });
    this.#status = "ended";
  }

  #thinkingBlock(payload: ResponsesEventPayload): OpenBlock {
    const key = itemKey(payload);
    return this.#block("thinking", key, key, { type: "thinking", thinking: "", signature: "" });
  }

  #textBlock(payload: ResponsesEventPayload): OpenBlock {
    const key = itemKey(payload);
    const contentIndex = typeof payload.content_index === "number" ? payload.content_index : 0;
    return this.#block("text", `${key}:${contentIndex}`, key, { type: "text", text: "" });
  }

  #toolBlock(payload: ResponsesEventPayload): OpenBlock {
    const key = itemKey(payload);
    const item = this.#currentItem?.key === key ? this.#currentItem.item : {};
    const callId = typeof item.call_id === "string" ? item.call_id : typeof payload.item_id === "string" ? payload.item_id : "";
    const name = typeof item.name === "string" ? item.name : "";
    return this.#block("json", key, key, { type: "tool_use", id: callId, name, input: {} });
  }

  /** The open block for this Responses part, or a new one (closing the open one first). */
  #block(kind: BlockKind, key: string, blockItemKey: string, start: AnthropicContentBlock): OpenBlock {
    if (this.#open && this.#open.key === key && this.#open.kind === kind) return this.#open;
    this.#start(undefined);
    this.#close();
    const index = this.#nextIndex;
    this.#nextIndex += 1;
    this.#emit("content_block_start", { index, content_block: start });
    this.#itemsWithBlocks.add(blockItemKey);
    this.#open = { kind, key, itemKey: blockItemKey, index, content: "" };
    return this.#open;
  }

  #close(): void {
    if (!this.#open) return;
    this.#emit("content_block_stop", { index: this.#open.index });
    this.#open = undefined;
  }

  /** A new summary part reads as a new paragraph, as in the non-streaming block ("\n\n" join). */
  #summaryPart(block: OpenBlock, summaryIndex: unknown): void {
    const index = typeof summaryIndex === "number" ? summaryIndex : 0;
    if (block.summaryIndex === index) return;
    if (block.summaryIndex !== undefined) this.#append(block, "\n\n");
    block.summaryIndex = index;
    block.summaryStart = block.content.length;
  }

  #append(block: OpenBlock, text: unknown): void {
    if (typeof text !== "string" || text === "") return;
    block.content += text;
    const delta =
      block.kind === "thinking"
        ? { type: "thinking_delta", thinking: text }
        : block.kind === "text"
          ? { type: "text_delta", text }
          : { type: "input_json_delta", partial_json: text };
    this.#emit("content_block_delta", { index: block.index, delta });
  }

  /**
   * The whole text from a `.done` event, when no delta carried any of it (a backend that skips
   * deltas): nothing written since `from`. A summary part starts at its own offset: after a first
   * part the block is not empty (the blank line between parts).
   */
  #fill(block: OpenBlock, fullText: unknown, from = 0): void {
    if (block.content.length === from) this.#append(block, fullText);
  }

  /** A complete block (from the non-streaming translator) as start, deltas and stop. */
  #wholeBlock(key: string, block: AnthropicContentBlock): void {
    const blockKey = `${key}/${this.#nextIndex}`;
    switch (block.type) {
      case "thinking": {
        const open = this.#block("thinking", blockKey, key, { ...block, thinking: "", signature: "" });
        this.#append(open, block.thinking);
        if (typeof block.signature === "string" && block.signature) {
          this.#emit("content_block_delta", { index: open.index, delta: { type: "signature_delta", signature: block.signature } });
        }
        break;
      }
      case "text": {
        const { citations, ...start } = block;
        const open = this.#block("text", blockKey, key, { ...start, text: "" });
        this.#append(open, block.text);
        for (const citation of Array.isArray(citations) ? citations : []) {
          this.#emit("content_block_delta", { index: open.index, delta: { type: "citations_delta", citation } });
        }
        break;
      }
      case "tool_use":
      case "server_tool_use": {
        // Input always travels as `input_json_delta`, as Anthropic sends it; clients assemble
        // tool input only from those.
        const open = this.#block("json", blockKey, key, { ...block, input: {} });
        const input = isRecord(block.input) ? block.input : {};
        if (Object.keys(input).length > 0) this.#append(open, JSON.stringify(input));
        break;
      }
      default:
        this.#block("none", blockKey, key, block);
    }
    this.#close();
  }
}

/** Which output item an event belongs to: its `output_index`, or its item id without one. */
function itemKey(payload: ResponsesEventPayload): string {
  if (typeof payload.output_index === "number") return `#${payload.output_index}`;
  const id = isRecord(payload.item) ? payload.item.id : payload.item_id;
  return typeof id === "string" ? id : "";
}
