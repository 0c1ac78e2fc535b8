// Checks of one OpenAI Responses turn as the client saw it, over SSE, as JSON (`stream: false`)
// and over WebSocket (protocol notes §1, §2): status and error shape, exactly one terminal
// event, and a completed response that is this turn's own.
import type { HttpObservation } from "./http-turn";
import type { Frame, SocketObservation } from "./socket-turn";
import { contains, firstOf, internalFailure, isRecord, parseJson, snippet, whoseReply, type Expectation, type Verdict } from "./verdict";

const terminalTypes = new Set(["response.completed", "response.failed", "response.incomplete"]);

/** `{"error": {message, type, …}}` with a status ≥ 400. */
export function checkOpenAiError(status: number, text: string | undefined, expectation: Expectation): Verdict {
  const body = parseJson(text);
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const shape = error && typeof error.message === "string" && typeof error.type === "string" ? undefined : `error body is not OpenAI-shaped: ${snippet(text ?? "")}`;
  const gatewayError = firstOf([shape, status < 400 ? `status ${status} with an error body` : undefined, internalFailure(status, error?.message, expectation)]);
  return { success: false, hung: false, ...(gatewayError ? { gatewayError } : {}), outcome: `HTTP ${status} ${String(error?.code ?? error?.type ?? "")}`.trim() };
}

export function checkResponsesHttp(observation: HttpObservation, streaming: boolean, expectation: Expectation): Verdict {
  if (observation.endedBy === "deadline") return { success: false, hung: true, outcome: `no end within the deadline (${observation.events.length} events)` };
  if (observation.status === undefined) {
    if (observation.endedBy === "client-left") return { success: false, hung: false, outcome: "left before an answer" };
    return { success: false, hung: false, gatewayError: `no HTTP answer: ${observation.networkError ?? "?"}`, outcome: "connection failed" };
  }
  if (observation.status !== 200) return checkOpenAiError(observation.status, observation.text, expectation);
  const isStream = observation.contentType.includes("text/event-stream");
  if (isStream !== streaming) {
    return { success: false, hung: false, gatewayError: `200 with content-type ${observation.contentType} for stream: ${streaming}`, outcome: "wrong content type" };
  }
  return streaming ? checkResponsesStream(observation, expectation) : checkResponseObject(parseJson(observation.text), observation.text, expectation);
}

function checkResponseObject(body: unknown, text: string | undefined, expectation: Expectation): Verdict {
  if (!isRecord(body) || body.object !== "response" || typeof body.id !== "string") {
    return { success: false, hung: false, gatewayError: `200 body is not a response object: ${snippet(text ?? "")}`, outcome: "not a response" };
  }
  if (body.status !== "completed") return { success: false, hung: false, outcome: `200 response ${String(body.status)}` };
  const foreign = expectation.tag && !contains(body.output, expectation.tag) ? `completed response ${body.id} carries ${whoseReply(body.output)}` : undefined;
  return { success: !foreign, hung: false, ...(foreign ? { foreign } : {}), outcome: "completed" };
}

function checkResponsesStream(observation: HttpObservation, expectation: Expectation): Verdict {
  const shapes: string[] = [];
  const parsed = observation.events.map((event) => {
    const data = parseJson(event.data);
    if (!isRecord(data) || typeof data.type !== "string") {
      shapes.push(`event data is not a JSON event: ${snippet(event.data, 80)}`);
      return { type: event.event ?? "?", data: undefined };
    }
    if (event.event !== undefined && event.event !== data.type) shapes.push(`'event: ${event.event}' carries type ${data.type}`);
    if (data.type === "error") shapes.push("a bare `error` event (the gateway promises response.failed)");
    return { type: data.type, data };
  });
  const verdict = checkTerminals(parsed, expectation, observation.endedBy === "network-error" ? `the stream broke (${observation.networkError})` : undefined);
  const gatewayError = firstOf([...shapes.slice(0, 3), verdict.gatewayError]);
  return { ...verdict, ...(gatewayError ? { gatewayError } : {}) };
}

interface ParsedEvent {
  type: string;
  data: Record<string, unknown> | undefined;
}

/** One terminal event, last; a completed one must be this turn's (same response, own reply). */
function checkTerminals(events: ParsedEvent[], expectation: Expectation, broke: string | undefined): Verdict {
  const terminals = events.flatMap((event, index) => (terminalTypes.has(event.type) ? [index] : []));
  if (terminals.length !== 1) {
    const found = terminals.map((index) => events[index]!.type).join(", ");
    return { success: false, hung: false, badTerminal: `${terminals.length} terminal events${found ? ` (${found})` : ""}${broke ? `; ${broke}` : ""}`, outcome: `${terminals.length} terminals` };
  }
  const index = terminals[0]!;
  const terminal = events[index]!;
  const after = events.slice(index + 1).map((event) => event.type);
  const badTerminal = after.length > 0 ? `events after the terminal: ${after.join(", ")}` : undefined;
  const response = isRecord(terminal.data?.response) ? terminal.data.response : {};
  if (terminal.type !== "response.completed") {
    const error = isRecord(response.error) ? response.error : {};
    const shape = terminal.type === "response.failed" && typeof error.code !== "string" ? "response.failed without error.code" : undefined;
    const internal = internalFailure(undefined, error.message, { ...expectation, upstream500: true });
    const gatewayError = firstOf([shape, internal]);
    return { success: false, hung: false, ...(badTerminal ? { badTerminal } : {}), ...(gatewayError ? { gatewayError } : {}), outcome: `${terminal.type} ${String(error.code ?? "")}`.trim() };
  }
  const foreign = foreignResponse(events, response, expectation);
  return { success: !foreign && !badTerminal, hung: false, ...(badTerminal ? { badTerminal } : {}), ...(foreign ? { foreign } : {}), outcome: "completed" };
}

/** The terminal's response id differs from the stream's own, or its output is another turn's reply. */
function foreignResponse(events: ParsedEvent[], response: Record<string, unknown>, expectation: Expectation): string | undefined {
  const created = events.find((event) => event.type === "response.created")?.data?.response;
  const createdId = isRecord(created) ? created.id : undefined;
  if (createdId !== undefined && createdId !== response.id) return `terminal of ${String(response.id)} ends the stream of ${String(createdId)}`;
  if (!expectation.tag) return undefined;
  const items = events.filter((event) => event.type === "response.output_item.done").map((event) => event.data?.item);
  if (contains(items, expectation.tag) || contains(response.output, expectation.tag)) return undefined;
  return `completed ${String(response.id)} carries ${whoseReply(items.length > 0 ? items : response.output)}`;
}

/** A WebSocket turn: its frames, and the frames that came after its end (before the next turn). */
export function checkResponsesSocket(observation: SocketObservation, after: Frame[], expectation: Expectation): Verdict {
  if (observation.endedBy === "deadline") return { success: false, hung: true, outcome: `no terminal frame within the deadline (${observation.frames.length} frames)` };
  const shapes: string[] = [];
  const parsed: ParsedEvent[] = observation.frames.map((frame) => {
    if (frame.binary) shapes.push(`a binary frame: ${snippet(frame.text, 60)}`);
    else if (!frame.json || frame.type === undefined) shapes.push(`a frame that is not a JSON event: ${snippet(frame.text, 80)}`);
    return { type: frame.type ?? "?", data: frame.json };
  });
  const strays = after.map((frame) => frame.type ?? snippet(frame.text, 40));
  const afterProblem = strays.length > 0 ? `frames after the terminal: ${strays.join(", ")}` : undefined;
  const last = parsed[parsed.length - 1];
  if (last?.type === "error") {
    const frame = last.data ?? {};
    const error = isRecord(frame.error) ? frame.error : undefined;
    const shape = typeof frame.status === "number" && error && typeof error.message === "string" && typeof error.type === "string" ? undefined : `error frame is not nested-shaped: ${snippet(JSON.stringify(frame), 100)}`;
    const internal = internalFailure(typeof frame.status === "number" ? frame.status : undefined, error?.message, expectation);
    const gatewayError = firstOf([...shapes.slice(0, 3), shape, internal]);
    const terminalsBefore = parsed.slice(0, -1).filter((event) => terminalTypes.has(event.type)).length;
    const badTerminal = firstOf([terminalsBefore > 0 ? "a terminal event and an error frame" : undefined, afterProblem]);
    return { success: false, hung: false, ...(badTerminal ? { badTerminal } : {}), ...(gatewayError ? { gatewayError } : {}), outcome: `error frame ${String(frame.status)} ${String(error?.code ?? "")}`.trim() };
  }
  const closed = observation.endedBy === "closed" ? `the socket closed (${observation.closeCode ?? "?"})` : undefined;
  const verdict = checkTerminals([...parsed, ...after.map((frame) => ({ type: frame.type ?? "?", data: frame.json }))], expectation, closed);
  const gatewayError = firstOf([...shapes.slice(0, 3), verdict.gatewayError]);
  return { ...verdict, ...(gatewayError ? { gatewayError } : {}) };
}
