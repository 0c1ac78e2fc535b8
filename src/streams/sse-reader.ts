/**
 * Upstream SSE bytes → batches of Responses events. Framing is eventsource-parser's job (chunk
 * boundaries, CRLF, comments, multi-line data); this file only names each event. The events of
 * one network chunk travel as one batch (see event-reader.ts).
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { EventBatch, EventReader } from "./event-reader";
import { failureEventTypes } from "../shared/redact";
import { eventFromData, isEventText, redactedEvent } from "./responses-event";

/** `secrets`: the upstream's credentials, redacted from what it says about failures. */
export function readResponsesEvents(body: ReadableStream<Uint8Array>, secrets: readonly string[] = []): EventReader {
  const bytes = body.getReader();
  const decoder = new TextDecoder();
  let batch: EventBatch = [];
  let finished = false;
  const parser = createParser({ onEvent: (message) => nameEvent(message, batch, secrets) });
  // The decoder already dropped a BOM (U+FEFF). eventsource-parser also drops the characters
  // "ï»¿" from its first chunk (a BOM's bytes, as if read one character per byte), which here are
  // real text: an empty first chunk passes that check.
  parser.feed("");
  // eventsource-parser holds a CR that ends what it was fed, in case an LF follows (CRLF is one
  // line end), until a later chunk brings a line end. At the stream's end none can: the CR ends
  // its line (a CR alone is a line end, WHATWG HTML §9.2.5), so an LF is fed for it and a last
  // event ended by CR CR is dispatched, not dropped. (The LF only completes that CR, or a line
  // after it that no blank line follows: it dispatches nothing else.)
  let carriageReturnHeld = false;
  const feed = (text: string) => {
    if (text === "") return;
    parser.feed(text);
    if (text.endsWith("\r")) carriageReturnHeld = true;
    else if (carriageReturnHeld && (text.includes("\n") || text.includes("\r"))) carriageReturnHeld = false;
  };
  const takeBatch = (): ReadableStreamReadResult<EventBatch> => {
    const value = batch;
    batch = [];
    return { done: false, value };
  };
  return {
    async read() {
      // A network chunk may hold only part of an event: read until at least one is whole.
      while (!finished) {
        const { done, value } = await bytes.read();
        if (done) {
          finished = true;
          // A last event without its blank line is incomplete by the SSE spec: dropped, like
          // browsers do; the supervisor then reports the stream as cut short.
          feed(decoder.decode());
          if (carriageReturnHeld) parser.feed("\n");
          if (batch.length > 0) return takeBatch();
          break;
        }
        feed(decoder.decode(value, { stream: true }));
        if (batch.length > 0) return takeBatch();
      }
      return { done: true, value: undefined };
    },
    cancel(reason) {
      finished = true;
      return bytes.cancel(reason);
    },
  };
}

function nameEvent(message: EventSourceMessage, batch: EventBatch, secrets: readonly string[]): void {
  // Some backends end with the Chat Completions sentinel; it carries nothing. Text that is no
  // event (a broken line, not JSON) goes no further either.
  if (message.data === "[DONE]" || !isEventText(message.data)) return;
  // The JSON's own `type` decides, not the `event:` line: some backends label every event
  // `event: message`, and trusting the label would miss their terminal event. The type is read
  // from the text's start (providers write it first), so this costs no parse; the label is only
  // the fallback for data without a type.
  const event = eventFromData(message.data, message.event ?? "message");
  batch.push(secrets.length > 0 && failureEventTypes.has(event.type) ? redactedEvent(event, secrets) : event);
}
