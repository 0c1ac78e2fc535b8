/**
 * An output token limit below what the upstream accepts, done by the gateway: the Responses API
 * refuses `max_output_tokens` under 16 (LiteLLM #35061; protocol notes §8), while clients probe
 * with `max_tokens: 1`. The upstream is asked for the floor; here the visible output (text,
 * refusal, tool call arguments) is counted as it streams, and at the client's limit the open part
 * is cut at a token boundary and ended as the upstream ends a part, and nothing more is passed.
 *
 * The upstream is not cancelled: it stops at the floor anyway, a few tokens later, and its
 * terminal event carries the real usage. That event is passed on as `response.incomplete` with
 * `incomplete_details.reason: "max_output_tokens"` (a failure passes as it is), so translators
 * report `length` / `max_tokens` as they do for a limit the upstream enforced. Reasoning is not
 * counted: it is not output the client sees, and the upstream's floor bounds it.
 */
import { eventFromPayload, eventPayload, isRecord, type ResponsesEvent, type ResponsesEventPayload } from "./responses-event";
import { mapReader, type EventBatch, type EventReader } from "./event-reader";

/** Counts tokens of a text with the upstream model's tokenizer. */
export type TokenCounter = (text: string) => number;

interface OpenPart {
  kind: "output_text" | "refusal" | "arguments";
  outputIndex: number;
  contentIndex: number;
  itemId: string;
  sent: string;
}

const deltaKinds: Record<string, OpenPart["kind"]> = {
  "response.output_text.delta": "output_text",
  "response.refusal.delta": "refusal",
  "response.function_call_arguments.delta": "arguments",
};

export function cutAtOutputTokens(source: EventReader, limit: number, countTokens: TokenCounter): EventReader {
  let remaining = limit;
  let cut = false;
  let sequenceNumber = 0;
  const added = new Map<number, Record<string, unknown>>();
  const done = new Map<number, unknown>();
  const parts = new Map<string, OpenPart>();

  const event = (type: string, fields: Record<string, unknown>): ResponsesEvent => eventFromPayload({ type, sequence_number: ++sequenceNumber, ...fields });

  /** The events that end the cut part as the upstream would have ended it, its item `incomplete`. */
  const ending = (part: OpenPart): ResponsesEvent[] => {
    const item = { ...(added.get(part.outputIndex) ?? {}), id: part.itemId, status: "incomplete" };
    if (part.kind === "arguments") {
      const call = { type: "function_call", ...item, arguments: part.sent };
      done.set(part.outputIndex, call);
      return [
        event("response.function_call_arguments.done", { item_id: part.itemId, output_index: part.outputIndex, arguments: part.sent }),
        event("response.output_item.done", { output_index: part.outputIndex, item: call }),
      ];
    }
    const where = { item_id: part.itemId, output_index: part.outputIndex, content_index: part.contentIndex };
    const contentPart = part.kind === "refusal" ? { type: "refusal", refusal: part.sent } : { type: "output_text", annotations: [], logprobs: [], text: part.sent };
    const message = { type: "message", role: "assistant", ...item, content: [contentPart] };
    done.set(part.outputIndex, message);
    const partDone = part.kind === "refusal" ? event("response.refusal.done", { ...where, refusal: part.sent }) : event("response.output_text.done", { ...where, text: part.sent, logprobs: [] });
    return [partDone, event("response.content_part.done", { ...where, part: contentPart }), event("response.output_item.done", { output_index: part.outputIndex, item: message })];
  };

  /** The upstream's terminal event, as the end of a response cut at the limit. */
  const incomplete = (terminal: ResponsesEvent): ResponsesEvent => {
    const payload = eventPayload(terminal);
    if (terminal.type === "response.failed") return terminal;
    const response = isRecord(payload.response) ? payload.response : {};
    const output = [...done.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
    return event("response.incomplete", { response: { ...response, status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output } });
  };

  return mapReader<EventBatch, EventBatch>(source, {
    map(batch) {
      const out: EventBatch = [];
      for (const current of batch) {
        const isTerminal = current.type === "response.completed" || current.type === "response.incomplete" || current.type === "response.failed";
        if (cut) {
          // After the cut only the end is wanted: the upstream's usage, our status.
          if (isTerminal) out.push(incomplete(current));
          continue;
        }
        const payload = eventPayload(current);
        if (typeof payload.sequence_number === "number") sequenceNumber = payload.sequence_number;
        if (current.type === "response.output_item.added" && typeof payload.output_index === "number" && isRecord(payload.item)) added.set(payload.output_index, payload.item);
        if (current.type === "response.output_item.done" && typeof payload.output_index === "number") done.set(payload.output_index, payload.item);
        const kind = deltaKinds[current.type];
        if (kind && typeof payload.delta === "string") {
          const part = openPart(parts, kind, payload);
          const tokens = countTokens(payload.delta);
          if (tokens > remaining) {
            const kept = prefixWithin(payload.delta, remaining, countTokens);
            if (kept) out.push(eventFromPayload({ ...payload, type: current.type, delta: kept }));
            part.sent += kept;
            out.push(...ending(part));
            cut = true;
            continue;
          }
          remaining -= tokens;
          part.sent += payload.delta;
        }
        out.push(current);
      }
      return out.length > 0 ? out : undefined;
    },
  });
}

function openPart(parts: Map<string, OpenPart>, kind: OpenPart["kind"], payload: ResponsesEventPayload): OpenPart {
  const outputIndex = typeof payload.output_index === "number" ? payload.output_index : 0;
  const contentIndex = typeof payload.content_index === "number" ? payload.content_index : 0;
  const key = `${kind}:${outputIndex}:${contentIndex}`;
  let part = parts.get(key);
  if (!part) {
    part = { kind, outputIndex, contentIndex, itemId: typeof payload.item_id === "string" ? payload.item_id : "", sent: "" };
    parts.set(key, part);
  }
  return part;
}

/** The longest prefix of `text` within `tokens` tokens (deltas are a few characters long). */
function prefixWithin(text: string, tokens: number, countTokens: TokenCounter): string {
  if (tokens <= 0) return "";
  let end = text.length;
  while (end > 0 && countTokens(text.slice(0, end)) > tokens) end -= 1;
  // Never split a surrogate pair.
  if (end > 0 && end < text.length && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return text.slice(0, end);
}
