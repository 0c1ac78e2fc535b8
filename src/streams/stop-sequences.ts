/**
 * Stop sequences, done by the gateway: the Responses API has no `stop` parameter, while
 * Anthropic clients send `stop_sequences`. Output text is watched as it streams; when a sequence
 * appears, the text is cut before it, the message and the response are ended as the upstream
 * would have ended them, and the upstream is released. Text that could be the start of a
 * sequence is held back until the next delta says it is not (never more than the longest
 * sequence minus one character).
 *
 * The ending `response.completed` carries `stop_sequence` (our own field), which the Anthropic
 * translators turn into `stop_reason: "stop_sequence"`.
 */
import { eventFromPayload, eventPayload, isRecord, type ResponsesEvent } from "./responses-event";
import { mapReader, type EventBatch, type EventReader } from "./event-reader";

interface OpenText {
  itemId: string;
  outputIndex: number;
  contentIndex: number;
  /** Text already sent downstream. */
  sent: string;
  /** Text received but held back: it may begin a stop sequence. */
  held: string;
}

export function cutAtStopSequences(source: EventReader, sequences: readonly string[], onStop?: (sequence: string) => void): EventReader {
  const stops = sequences.filter((sequence) => sequence.length > 0);
  const holdBack = Math.max(0, ...stops.map((sequence) => sequence.length)) - 1;
  const items = new Map<number, unknown>();
  let open: OpenText | undefined;
  let response: Record<string, unknown> = {};
  let sequenceNumber = 0;
  let ended = false;

  const delta = (text: string, part: OpenText): ResponsesEvent =>
    eventFromPayload({ type: "response.output_text.delta", sequence_number: sequenceNumber, item_id: part.itemId, output_index: part.outputIndex, content_index: part.contentIndex, delta: text, logprobs: [] });

  return mapReader<EventBatch, EventBatch>(source, {
    // Ending the stream releases the upstream: nothing after the stop is wanted.
    ended: () => ended,
    map(batch) {
      if (ended) return undefined;
      const out: EventBatch = [];
      for (const event of batch) {
        const payload = stops.length > 0 ? eventPayload(event) : undefined;
        if (!payload) {
          out.push(event);
          continue;
        }
        if (typeof payload.sequence_number === "number") sequenceNumber = payload.sequence_number;
        if (isRecord(payload.response)) response = payload.response;
        if (event.type === "response.output_item.done" && typeof payload.output_index === "number") items.set(payload.output_index, payload.item);
        if (event.type === "response.content_part.added" && isRecord(payload.part) && payload.part.type === "output_text") {
          open = { itemId: String(payload.item_id), outputIndex: Number(payload.output_index), contentIndex: Number(payload.content_index), sent: "", held: "" };
        } else if (event.type === "response.output_text.delta" && open && typeof payload.delta === "string") {
          const text = open.held + payload.delta;
          const hit = firstStop(text, stops);
          if (hit) {
            const kept = text.slice(0, hit.index);
            if (kept) out.push(delta(kept, open));
            out.push(...ending(open, open.sent + kept, hit.sequence, response, items, sequenceNumber));
            ended = true;
            onStop?.(hit.sequence);
            return out;
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

/** The events the upstream would have sent had it stopped here. */
function ending(
  part: OpenText,
  text: string,
  sequence: string,
  response: Record<string, unknown>,
  items: Map<number, unknown>,
  lastSequence: number,
): ResponsesEvent[] {
  const where = { item_id: part.itemId, output_index: part.outputIndex, content_index: part.contentIndex };
  const contentPart = { type: "output_text", annotations: [], logprobs: [], text };
  const message = { id: part.itemId, type: "message", status: "completed", role: "assistant", content: [contentPart] };
  items.set(part.outputIndex, message);
  const output = [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  let next = lastSequence;
  const event = (type: string, fields: Record<string, unknown>) => eventFromPayload({ type, sequence_number: ++next, ...fields });
  return [
    event("response.output_text.done", { ...where, text, logprobs: [] }),
    event("response.content_part.done", { ...where, part: contentPart }),
    event("response.output_item.done", { output_index: part.outputIndex, item: message }),
    event("response.completed", { response: { ...response, status: "completed", output, stop_sequence: sequence } }),
  ];
}
