/**
 * Upstream SSE bytes → batches of Responses events. Framing is eventsource-parser's job (chunk
 * boundaries, CRLF, comments, multi-line data); this file only names each event.
 *
 * Events travel in batches: those that arrived in one network chunk stay together all the way
 * to the client, so the gateway never splits what the upstream sent at once into many small
 * writes (each costs a round through the runtime), and never holds back an event to wait for
 * more.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { eventPayload, type ResponsesEvent } from "./responses-event";

export type EventBatch = ResponsesEvent[];

export function readResponsesEvents(body: ReadableStream<Uint8Array>): ReadableStream<EventBatch> {
  const decoder = new TextDecoder();
  let batch: EventBatch = [];
  const parser = createParser({ onEvent: (message) => nameEvent(message, batch) });
  const flushBatch = (controller: TransformStreamDefaultController<EventBatch>) => {
    if (batch.length === 0) return;
    controller.enqueue(batch);
    batch = [];
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, EventBatch>({
      transform(chunk, controller) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        flushBatch(controller);
      },
      flush(controller) {
        // A last event without its blank line is incomplete by the SSE spec: dropped, like
        // browsers do; the supervisor then reports the stream as cut short.
        parser.feed(decoder.decode());
        flushBatch(controller);
      },
    }),
  );
}

function nameEvent(message: EventSourceMessage, batch: EventBatch): void {
  // Some backends end with the Chat Completions sentinel; it carries nothing.
  if (message.data === "[DONE]") return;
  // OpenAI names every event in its `event:` line, which lets most events pass without parsing.
  // Without one (data-only backends), the type comes from the JSON itself.
  if (message.event) {
    batch.push({ type: message.event, data: message.data });
    return;
  }
  const event: ResponsesEvent = { type: "", data: message.data };
  const type = eventPayload(event).type;
  event.type = typeof type === "string" ? type : "message";
  batch.push(event);
}
