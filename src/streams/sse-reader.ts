/**
 * Upstream SSE bytes → Responses events. Framing is eventsource-parser's job (chunk boundaries,
 * CRLF, comments, multi-line data); this file only names each event.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
import type { EventSourceMessage } from "eventsource-parser";
import { eventPayload, type ResponsesEvent } from "./responses-event";

export function readResponsesEvents(body: ReadableStream<Uint8Array>): ReadableStream<ResponsesEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(new TransformStream<EventSourceMessage, ResponsesEvent>({ transform: nameEvent }));
}

function nameEvent(message: EventSourceMessage, controller: TransformStreamDefaultController<ResponsesEvent>): void {
  // Some backends end with the Chat Completions sentinel; it carries nothing.
  if (message.data === "[DONE]") return;
  // OpenAI names every event in its `event:` line, which lets most events pass without parsing.
  // Without one (data-only backends), the type comes from the JSON itself.
  if (message.event) {
    controller.enqueue({ type: message.event, data: message.data });
    return;
  }
  const event: ResponsesEvent = { type: "", data: message.data };
  const type = eventPayload(event).type;
  event.type = typeof type === "string" ? type : "message";
  controller.enqueue(event);
}
