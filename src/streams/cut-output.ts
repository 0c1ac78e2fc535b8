/**
 * Output limits the gateway enforces itself, because the Responses API cannot:
 * - stop sequences: it has no `stop` parameter, while Anthropic and Chat Completions clients
 *   send one. Output text is watched as it streams; when a sequence appears, the text is cut
 *   before it. Text that could be the start of a sequence is held back until the next delta says
 *   it is not (never more than the longest sequence minus one character).
 * - a token limit under the Responses floor: it refuses `max_output_tokens` < 16, while clients
 *   probe with `max_tokens: 1` (Claude Code). The upstream is asked for 16 and the text is cut
 *   after the client's number of deltas — providers stream about one token per delta.
 *
 * At the cut the message and its item are ended as the upstream would have ended them. The
 * terminal event waits for the upstream's own (the rest of its output is dropped), so that it
 * carries the upstream's usage: the provider bills the whole generation either way.
 *
 * The ending `response.completed` carries `stop_sequence` (our own field), which the client-side
 * translators turn into their stop reason; a cut at the token limit ends `response.incomplete`
 * with `max_output_tokens`, as the upstream's own limit would.
 */
import { eventFromPayload, eventPayload, isRecord, terminalEventTypes, type ResponsesEvent } from "./responses-event";
import { mapReader, type EventBatch, type EventReader } from "./event-reader";

export interface OutputCut {
  stopSequences?: readonly string[];
  /** At most this many output text deltas reach the client (a client limit under the upstream's floor). */
  maxTextDeltas?: number;
  /** Called when the output is cut, with the stop sequence, or undefined for the token limit. */
  onCut?(sequence: string | undefined): void;
}

interface OpenText {
  itemId: string;
  outputIndex: number;
  contentIndex: number;
  /** Text already sent downstream. */
  sent: string;
  /** Text received but held back: it may begin a stop sequence. */
  held: string;
}

type Ending = (usage: unknown) => ResponsesEvent;

export function cutOutput(source: EventReader, cut: OutputCut): EventReader {
  const stops = (cut.stopSequences ?? []).filter((sequence) => sequence.length > 0);
  const holdBack = Math.max(0, ...stops.map((sequence) => sequence.length)) - 1;
  const maxDeltas = cut.maxTextDeltas;
  if (stops.length === 0 && maxDeltas === undefined) return source;
  const items = new Map<number, unknown>();
  let open: OpenText | undefined;
  let response: Record<string, unknown> = {};
  let sequenceNumber = 0;
  let deltas = 0;
  /** Set at the cut: the terminal event, built once the upstream's usage is known. */
  let ending: Ending | undefined;
  let ended = false;

  const delta = (text: string, part: OpenText): ResponsesEvent =>
    eventFromPayload({ type: "response.output_text.delta", sequence_number: sequenceNumber, item_id: part.itemId, output_index: part.outputIndex, content_index: part.contentIndex, delta: text, logprobs: [] });

  const cutHere = (part: OpenText, kept: string, sequence: string | undefined, out: EventBatch) => {
    if (kept) out.push(delta(kept, part));
    const closing = closingEvents(part, part.sent + kept, sequence, response, items, sequenceNumber);
    out.push(...closing.events);
    ending = closing.terminal;
    cut.onCut?.(sequence);
  };

  return mapReader<EventBatch, EventBatch>(source, {
    ended: () => ended,
    map(batch) {
      const out: EventBatch = [];
      for (const event of batch) {
        if (ending) {
          // After the cut only the upstream's terminal matters, for its usage.
          if (!terminalEventTypes.has(event.type)) continue;
          const upstream = eventPayload(event).response;
          out.push(ending(isRecord(upstream) ? upstream.usage : undefined));
          ended = true;
          break;
        }
        const payload = eventPayload(event);
        if (typeof payload.sequence_number === "number") sequenceNumber = payload.sequence_number;
        if (isRecord(payload.response)) response = payload.response;
        if (event.type === "response.output_item.done" && typeof payload.output_index === "number") items.set(payload.output_index, payload.item);
        if (event.type === "response.content_part.added" && isRecord(payload.part) && payload.part.type === "output_text") {
          open = { itemId: String(payload.item_id), outputIndex: Number(payload.output_index), contentIndex: Number(payload.content_index), sent: "", held: "" };
        } else if (event.type === "response.output_text.delta" && open && typeof payload.delta === "string") {
          const text = open.held + payload.delta;
          const hit = firstStop(text, stops);
          if (hit) {
            cutHere(open, text.slice(0, hit.index), hit.sequence, out);
            continue;
          }
          deltas += 1;
          if (maxDeltas !== undefined && deltas >= maxDeltas) {
            cutHere(open, text, undefined, out);
            continue;
          }
          const safe = Math.max(0, text.length - holdBack);
          open.held = text.slice(safe);
          if (safe > 0) {
            open.sent += text.slice(0, safe);
            out.push(delta(text.slice(0, safe), open));
          }
          continue;
        } else if (event.type === "response.output_text.done" && open) {
          if (open.held) out.push(delta(open.held, open));
          open = undefined;
        }
        out.push(event);
      }
      return out.length > 0 ? out : undefined;
    },
    // A supervised source always ends with a terminal event; this is only a guard.
    finish: () => (ending && !ended ? [ending(undefined)] : undefined),
  });
}

/** The earliest stop in `text` (held-back text + the new delta: a stop never straddles what was sent). */
function firstStop(text: string, stops: readonly string[]): { index: number; sequence: string } | undefined {
  let best: { index: number; sequence: string } | undefined;
  for (const sequence of stops) {
    const index = text.indexOf(sequence);
    if (index >= 0 && (!best || index < best.index)) best = { index, sequence };
  }
  return best;
}

/** The events the upstream would have sent had it stopped here, and its terminal event to come. */
function closingEvents(
  part: OpenText,
  text: string,
  sequence: string | undefined,
  response: Record<string, unknown>,
  items: Map<number, unknown>,
  lastSequence: number,
): { events: ResponsesEvent[]; terminal: Ending } {
  const where = { item_id: part.itemId, output_index: part.outputIndex, content_index: part.contentIndex };
  const contentPart = { type: "output_text", annotations: [], logprobs: [], text };
  const limited = sequence === undefined;
  const message = { id: part.itemId, type: "message", status: limited ? "incomplete" : "completed", role: "assistant", content: [contentPart] };
  items.set(part.outputIndex, message);
  const output = [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  let next = lastSequence;
  const event = (type: string, fields: Record<string, unknown>) => eventFromPayload({ type, sequence_number: ++next, ...fields });
  const events = [
    event("response.output_text.done", { ...where, text, logprobs: [] }),
    event("response.content_part.done", { ...where, part: contentPart }),
    event("response.output_item.done", { output_index: part.outputIndex, item: message }),
  ];
  const terminal: Ending = (usage) =>
    limited
      ? event("response.incomplete", { response: { ...response, status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output, usage: usage ?? null } })
      : event("response.completed", { response: { ...response, status: "completed", output, stop_sequence: sequence, usage: usage ?? null } });
  return { events, terminal };
}
