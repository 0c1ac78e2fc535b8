// The soak's fault kinds: what each one means, where it applies, and which primitive of the
// fake upstream (test/support/fake-upstream/faults.ts) it becomes on each upstream transport.
import type { StreamFault, UpgradeRefusal } from "../support/fake-upstream/server";

export const faultKinds = [
  "close",
  "error-event",
  "stall",
  "drop",
  "status-429",
  "status-500",
  "html-503",
  "garbage",
  "second-terminal",
  "after-terminal",
  "late-previous",
  "previous-not-found",
  "refuse-upgrade",
  "client-abort",
] as const;
export type FaultKind = (typeof faultKinds)[number];
/** A turn's kind: a fault, or a normal completion. */
export type TurnKind = FaultKind | "none";

export const faultDescriptions: Record<TurnKind, string> = {
  none: "a normal completion",
  close: "the upstream closes the stream cleanly after K events, without a terminal event",
  "error-event": "an in-stream `error` event after K events",
  stall: "the upstream goes silent after K events, past the gateway's idle limit",
  drop: "the connection breaks after K events (TCP reset over HTTP, WebSocket terminated)",
  "status-429": "a 429 before the first byte (WebSocket: an error frame with status 429); over HTTP a quarter of them stall after half the body",
  "status-500": "a 500 before the first byte (WebSocket: an error frame with status 500); over HTTP a quarter of them stall after half the body",
  "html-503": "an HTML 503 page before the first byte (WebSocket: the socket drops and the re-upgrade gets the HTML 503)",
  garbage: "bytes that are not an event after K events (noise, broken JSON, binary), then the rest or a close",
  "second-terminal": "a second terminal event right after the first (completed or failed)",
  "after-terminal": "a stray delta event after the terminal event (at once or 30 ms later)",
  "late-previous": "a late frame of this response (a delta, its terminal, or both): over WebSocket just before the next response on the same connection (half the time that next response is slow); over HTTP 150 ms after the terminal",
  "previous-not-found": "`previous_response_not_found` on a chained create",
  "refuse-upgrade": "the upstream WebSocket drops and the next upgrade is refused (426, 500 or 403; a quarter stall after half the body)",
  "client-abort": "the client leaves mid-turn (aborts the HTTP request / closes its WebSocket)",
};

/** Where a conversation's turns come from, as the report names them. */
export type Path = "stateless" | "http-session" | "client-websocket" | "anthropic";
export const paths: readonly Path[] = ["stateless", "http-session", "client-websocket", "anthropic"];
export const pathNames: Record<Path, string> = {
  stateless: "stateless HTTP",
  "http-session": "HTTP session",
  "client-websocket": "client WS",
  anthropic: "Anthropic",
};

export interface TurnPosition {
  path: Path;
  /** The turn goes through a session object (upstream WebSocket by default). */
  session: boolean;
  /** The session has completed a turn before (a chained create is possible). */
  chained: boolean;
}

/** Whether a fault kind can happen on this turn at all. */
export function faultApplies(kind: FaultKind, position: TurnPosition): boolean {
  switch (kind) {
    case "refuse-upgrade":
      return position.session;
    case "previous-not-found":
      // Stateless Responses clients chain with `previous_response_id` themselves; sessions chain.
      return position.path === "stateless" || (position.session && position.chained);
    default:
      return true;
  }
}

/** A planned fault: its kind and the numbers (drawn from the seed) that shape it. */
export interface PlannedFault {
  kind: TurnKind;
  /** Fraction of the response's events sent before the fault. */
  at: number;
  /** Picks a variant (error code, garbage form, second terminal, abort point…). */
  variant: number;
}

/** In-stream error codes, with the status a WebSocket error frame gives them. */
const errorCodes = [
  ["server_is_overloaded", "Our servers are currently overloaded. Please try again later.", 503],
  ["server_error", "The server had an error while processing your request.", 500],
  ["rate_limit_exceeded", "Rate limit reached. Please try again in 2s.", 429],
  ["context_length_exceeded", "Your input exceeds the context window of this model.", 400],
] as const;

/** Whether the upstream itself says 500 somewhere in this fault: then a 500 to the client is its. */
export function upstreamSays500(fault: PlannedFault): boolean {
  if (fault.kind === "status-500") return true;
  if (fault.kind === "error-event") return errorCodes[fault.variant % errorCodes.length]![2] === 500;
  return upgradeRefusalFor(fault)?.status === 500;
}

const httpGarbage = [
  "\u0000\u00ff\u00fe\u0007 not an event \u0001\n",
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":\n\n',
  "\u00c3\u0028\u00a0\u00a1garbage-without-a-newline ",
];
const socketGarbage = [
  { text: "this frame is not JSON", binary: false },
  { text: "\u0000\u00ff\u00fe\u0007 binary frame", binary: true },
  { text: '{"type":"response.output_text.delta","delta":', binary: false },
];

function json(value: unknown): string {
  return JSON.stringify(value);
}

export const html503 =
  "<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>" +
  "<body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>";

/** A quarter of status answers send their headers and half the body, then nothing (issue 10). */
function stallsBody(fault: PlannedFault): boolean {
  return fault.variant >= 9;
}

/** The upgrade refusal a fault arms for the session's next upstream WebSocket. */
export function upgradeRefusalFor(fault: PlannedFault): UpgradeRefusal | undefined {
  if (fault.kind === "html-503") return { status: 503, body: html503, contentType: "text/html" };
  if (fault.kind !== "refuse-upgrade") return undefined;
  const status = [426, 500, 403][fault.variant % 3]!;
  const body = json({ error: { message: `Upgrade refused (${status}).`, type: "invalid_request_error", code: null, param: null } });
  return { status, body, contentType: "application/json", stallBody: stallsBody(fault) };
}

/** Client-abort timing: after how many events the client leaves, or after how long without any. */
export function clientAbortPoint(fault: PlannedFault): { afterEvents: number } | { afterMs: number } {
  switch (fault.variant % 3) {
    case 0:
      return { afterEvents: 1 + Math.floor(fault.at * 5) };
    case 1:
      return { afterMs: 300 }; // the upstream is silent: the client leaves before any output
    default:
      return { afterMs: 40 };
  }
}

/**
 * The fake upstream's primitive for this fault on this request (its first one in the turn), or
 * undefined when the fault cannot apply there (e.g. `previous-not-found` on a full send).
 */
export function primitiveFor(fault: PlannedFault, transport: "http" | "websocket", body: Record<string, unknown>): StreamFault | undefined {
  const at = fault.at;
  switch (fault.kind) {
    case "none":
      return undefined;
    case "close":
      return { type: "cut", at, how: "close" };
    case "stall":
      return { type: "cut", at, how: "stall" };
    case "drop":
      return { type: "cut", at, how: "drop" };
    case "error-event": {
      const [code, message, status] = errorCodes[fault.variant % errorCodes.length]!;
      return { type: "error-event", at, code, message, status };
    }
    case "status-429":
      return {
        type: "status", status: 429, contentType: "application/json", stallBody: stallsBody(fault),
        body: json({ error: { type: "usage_limit_reached", message: "The usage limit has been reached", resets_in_seconds: 1 } }),
      };
    case "status-500":
      return {
        type: "status", status: 500, contentType: "application/json", stallBody: stallsBody(fault),
        body: json({ error: { message: "Internal server error", type: "server_error", param: null, code: "server_error" } }),
      };
    case "html-503":
      // Over WebSocket the socket drops before output; the re-upgrade gets the HTML page (armed by the injector).
      return transport === "http" ? { type: "status", status: 503, contentType: "text/html", body: html503 } : { type: "cut", at: 0, how: "drop" };
    case "garbage": {
      const thenEnd = fault.variant % 2 === 1;
      if (transport === "http") return { type: "garbage", at, text: httpGarbage[fault.variant % httpGarbage.length]!, binary: true, thenEnd };
      const frame = socketGarbage[fault.variant % socketGarbage.length]!;
      return { type: "garbage", at, text: frame.text, binary: frame.binary, thenEnd };
    }
    case "second-terminal":
      return { type: "after-terminal", extras: [fault.variant % 2 === 0 ? "completed" : "failed"], delayMs: 0 };
    case "after-terminal":
      return { type: "after-terminal", extras: ["delta"], delayMs: fault.variant % 2 === 0 ? 0 : 30 };
    case "late-previous":
      // Half the time the next response is slow: still in flight when its client is done with it.
      return { type: "leftover", extras: [["delta"], ["completed"], ["delta", "completed"]][fault.variant % 3] as ("delta" | "completed")[], nextDelayMs: fault.variant >= 6 ? 40 : 0 };
    case "previous-not-found":
      return typeof body.previous_response_id === "string" ? { type: "previous-not-found" } : undefined;
    case "refuse-upgrade":
      return transport === "websocket" ? { type: "cut", at: 0, how: "drop" } : undefined;
    case "client-abort":
      return fault.variant % 3 === 1 ? { type: "trickle", delayMs: 60, stallAt: 0.15 } : { type: "trickle", delayMs: 60 };
  }
}
