// Checks of one Anthropic Messages turn as the client saw it (protocol notes §5): the error
// shape `{"type":"error","error":{type,message}}`, a stream of known events that ends with
// exactly one `message_stop` or one `error`, and a message that carries this turn's reply.
import { anthropicContentFromEvents } from "./client-requests";
import type { HttpObservation } from "./http-turn";
import { contains, firstOf, internalFailure, isRecord, parseJson, snippet, whoseReply, type Expectation, type Verdict } from "./verdict";

const streamEventTypes = new Set([
  "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error",
]);

function checkAnthropicError(status: number, text: string | undefined, expectation: Expectation): Verdict {
  const body = parseJson(text);
  const error = isRecord(body) && body.type === "error" && isRecord(body.error) ? body.error : undefined;
  const shape = error && typeof error.type === "string" && typeof error.message === "string" ? undefined : `error body is not Anthropic-shaped: ${snippet(text ?? "")}`;
  const gatewayError = firstOf([shape, status < 400 ? `status ${status} with an error body` : undefined, internalFailure(status, error?.message, expectation)]);
  return { success: false, hung: false, ...(gatewayError ? { gatewayError } : {}), outcome: `HTTP ${status} ${String(error?.type ?? "")}`.trim() };
}

export function checkAnthropicHttp(observation: HttpObservation, streaming: boolean, expectation: Expectation): Verdict {
  if (observation.endedBy === "deadline") return { success: false, hung: true, outcome: `no end within the deadline (${observation.events.length} events)` };
  if (observation.status === undefined) {
    if (observation.endedBy === "client-left") return { success: false, hung: false, outcome: "left before an answer" };
    return { success: false, hung: false, gatewayError: `no HTTP answer: ${observation.networkError ?? "?"}`, outcome: "connection failed" };
  }
  if (observation.status !== 200) return checkAnthropicError(observation.status, observation.text, expectation);
  const isStream = observation.contentType.includes("text/event-stream");
  if (isStream !== streaming) {
    return { success: false, hung: false, gatewayError: `200 with content-type ${observation.contentType} for stream: ${streaming}`, outcome: "wrong content type" };
  }
  if (!streaming) return checkMessage(parseJson(observation.text), observation.text, expectation);
  return checkStream(observation, expectation);
}

function checkMessage(body: unknown, text: string | undefined, expectation: Expectation): Verdict {
  if (!isRecord(body) || body.type !== "message" || body.role !== "assistant" || !Array.isArray(body.content)) {
    return { success: false, hung: false, gatewayError: `200 body is not a message: ${snippet(text ?? "")}`, outcome: "not a message" };
  }
  const foreign = expectation.tag && !contains(body.content, expectation.tag) ? `the message carries ${whoseReply(body.content)}` : undefined;
  return { success: !foreign, hung: false, ...(foreign ? { foreign } : {}), outcome: `message (${String(body.stop_reason)})` };
}

function checkStream(observation: HttpObservation, expectation: Expectation): Verdict {
  const shapes: string[] = [];
  const types = observation.events.map((event) => {
    const data = parseJson(event.data);
    const type = isRecord(data) && typeof data.type === "string" ? data.type : undefined;
    if (!type) shapes.push(`event data is not a JSON event: ${snippet(event.data, 80)}`);
    else if (!streamEventTypes.has(type)) shapes.push(`an event Anthropic clients do not know: ${type}`);
    else if (event.event !== type) shapes.push(`'event: ${event.event ?? ""}' carries type ${type}`);
    if (type === "error") {
      const error = isRecord(data) && isRecord(data.error) ? data.error : undefined;
      if (!error || typeof error.type !== "string" || typeof error.message !== "string") shapes.push(`error event is not Anthropic-shaped: ${snippet(event.data, 80)}`);
      const internal = internalFailure(undefined, error?.message, { ...expectation, upstream500: true });
      if (internal) shapes.push(internal);
    }
    return type ?? "?";
  });
  const content = types.filter((type) => type !== "ping");
  if (content.length > 0 && content[0] !== "message_start" && content[0] !== "error") shapes.push(`the stream starts with ${content[0]}`);
  const terminals = types.flatMap((type, index) => (type === "message_stop" || type === "error" ? [index] : []));
  const broke = observation.endedBy === "network-error" ? `; the stream broke (${observation.networkError})` : "";
  let badTerminal: string | undefined;
  if (terminals.length !== 1) badTerminal = `${terminals.length} terminal events${terminals.length ? ` (${terminals.map((index) => types[index]).join(", ")})` : ""}${broke}`;
  else if (terminals[0] !== types.length - 1) badTerminal = `events after the terminal: ${types.slice(terminals[0]! + 1).join(", ")}`;
  const ended = terminals.length > 0 ? types[terminals[0]!] : undefined;
  const gatewayError = firstOf(shapes.slice(0, 3));
  const common = { hung: false, ...(badTerminal ? { badTerminal } : {}), ...(gatewayError ? { gatewayError } : {}) };
  if (ended !== "message_stop") {
    const error = ended === "error" ? parseJson(observation.events[terminals[0]!]!.data) : undefined;
    const errorType = isRecord(error) && isRecord(error.error) ? String(error.error.type) : "";
    return { success: false, ...common, outcome: ended ? `error event ${errorType}` : "no terminal" };
  }
  const foreign = expectation.tag && !observation.events.some((event) => event.data.includes(expectation.tag!)) ? `the message carries ${whoseReply(anthropicContentFromEvents(observation.events))}` : undefined;
  return { success: !foreign && !badTerminal && !gatewayError, ...common, ...(foreign ? { foreign } : {}), outcome: "message_stop" };
}
