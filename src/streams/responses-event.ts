/**
 * One event of a Responses stream, as it travels through the gateway's pipes.
 *
 * The JSON text is kept as the upstream sent it, so that unknown event types and fields pass
 * through byte for byte and most events are never re-serialised; `payload` is parsed on demand
 * (terminal events, output items) and cached on the event.
 */
import { redact } from "../shared/redact";

export interface ResponsesEvent {
  type: string;
  data: string;
  payload?: ResponsesEventPayload;
}

export interface ResponsesEventPayload {
  type?: string;
  sequence_number?: number;
  [field: string]: unknown;
}

/** The events that end a Responses stream (`error` is made terminal by the supervisor). */
export const terminalEventTypes: ReadonlySet<string> = new Set([
  "response.completed",
  "response.failed",
  "response.incomplete",
]);

export function eventPayload(event: ResponsesEvent): ResponsesEventPayload {
  if (event.payload) return event.payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    parsed = undefined;
  }
  event.payload = isRecord(parsed) ? (parsed as ResponsesEventPayload) : {};
  return event.payload;
}

/**
 * An event from its JSON text alone (a WebSocket frame, an SSE event without an `event:` line).
 * Providers write `type` first, so it is read from the text without parsing the rest:
 * `response.created` and `response.completed` echo the whole request (instructions, tools),
 * tens of KB that most events never need parsed. Other text is parsed (and kept parsed).
 */
export function eventFromData(data: string, fallbackType: string): ResponsesEvent {
  const prefix = '{"type":"';
  if (data.startsWith(prefix)) {
    const end = data.indexOf('"', prefix.length);
    const type = end > 0 ? data.slice(prefix.length, end) : "";
    if (type && !type.includes("\\")) return { type, data };
  }
  const event: ResponsesEvent = { type: fallbackType, data };
  const type = eventPayload(event).type;
  if (typeof type === "string") event.type = type;
  return event;
}

export function eventFromPayload(payload: ResponsesEventPayload & { type: string }): ResponsesEvent {
  return { type: payload.type, data: JSON.stringify(payload), payload };
}

/**
 * Whether an event's text can be a Responses event at all: a JSON object. Checked by its first
 * and last characters only (not parsed: most events pass without a parse); what fails it — a
 * frame cut short, a line of text, HTML from a proxy — is no event a client could read, and is
 * dropped rather than passed on for a client's JSON parse to fail on.
 */
export function isEventText(data: string): boolean {
  let start = 0;
  let end = data.length - 1;
  while (start <= end && data.charCodeAt(start) <= 32) start += 1;
  while (end >= start && data.charCodeAt(end) <= 32) end -= 1;
  return data[start] === "{" && data[end] === "}";
}

/** Events that carry their response object (and so its id). */
const responseScopedTypes: ReadonlySet<string> = new Set(["response.created", "response.in_progress", "response.queued", ...terminalEventTypes]);

/**
 * The id of the response an event's `response` object names, or undefined for events without
 * one. Providers write `"response":{"id":…` first, so it is read from the text; anything else
 * is parsed.
 */
export function responseIdOf(event: ResponsesEvent): string | undefined {
  if (!responseScopedTypes.has(event.type)) return undefined;
  const marker = '"response":{"id":"';
  const at = event.data.indexOf(marker);
  if (at >= 0 && at < 200) {
    const start = at + marker.length;
    const end = event.data.indexOf('"', start);
    const id = end > start ? event.data.slice(start, end) : "";
    if (id && !id.includes("\\")) return id;
  }
  const response = eventPayload(event).response;
  return isRecord(response) && typeof response.id === "string" ? response.id : undefined;
}

/** The event with every secret taken out of its text (and its parsed form dropped, to be re-read). */
export function redactedEvent(event: ResponsesEvent, secrets: readonly string[]): ResponsesEvent {
  const data = redact(event.data, secrets);
  return data === event.data ? event : { type: event.type, data };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
