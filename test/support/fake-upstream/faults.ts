// Faults the fake upstream can inject into one response. Only the primitives live here (cut a
// stream, answer a status, send bytes that are not an event…); which fault a turn gets, and
// when, is decided by whoever drives the fake (the chaos soak's injector, test/soak/).
import type { Plan } from "./scenarios.js";

/** `at` is a fraction of the response's events: how many go out before the fault (0 = none). */
export type StreamFault =
  /**
   * Answered before the first byte (HTTP); over WebSocket an error frame (JSON bodies only).
   * `stallBody`: the headers and half the body go out, then nothing (HTTP only).
   */
  | { type: "status"; status: number; body: string; contentType: string; stallBody?: boolean }
  /** The chained create's previous response is unknown (HTTP: a 400; WebSocket: an error frame). */
  | { type: "previous-not-found" }
  /** After `at` of the events: a clean close, an abrupt drop (TCP reset / terminate), or silence. */
  | { type: "cut"; at: number; how: "close" | "drop" | "stall" }
  /** An in-stream `error` event after `at` of the events (flat over SSE, nested with `status` over WebSocket). */
  | { type: "error-event"; at: number; code: string; message: string; status: number }
  /** Bytes that are not an event after `at` of the events; then the rest, or a clean close. */
  | { type: "garbage"; at: number; text: string; binary: boolean; thenEnd: boolean }
  /** More events after the terminal one, `delayMs` later (a second terminal, a stray delta). */
  | { type: "after-terminal"; extras: ExtraEvent[]; delayMs: number }
  /**
   * Events of this response that arrive late: over WebSocket just before the next response on the
   * same connection (a leftover of the previous response), that next response then paced
   * `nextDelayMs` per event (still in flight when its client is already done); over HTTP after
   * the terminal, late.
   */
  | { type: "leftover"; extras: ExtraEvent[]; nextDelayMs: number }
  /** Every event `delayMs` apart (a client can leave mid-turn); silence from `stallAt` on. */
  | { type: "trickle"; delayMs: number; stallAt?: number };

export type ExtraEvent = "completed" | "failed" | "delta";

/** What the driver wants for one request: the reply's kind, a tag it must carry, a fault. */
export interface InjectedTurn {
  reply: "message" | "function_call";
  tag: string;
  fault?: StreamFault;
  /** Milliseconds between events of a normal response (real providers stream over time). */
  paceMs?: number;
}

export interface UpgradeRefusal {
  status: number;
  body: string;
  contentType: string;
  /** The status line, headers and half the body go out, then nothing. */
  stallBody?: boolean;
}

export interface UpstreamRequest {
  transport: "http" | "websocket";
  body: any;
  headers: Record<string, string>;
}

export interface FaultInjector {
  forRequest(request: UpstreamRequest): InjectedTurn | undefined;
  /** The fake refused a create as the provider would (`response_already_in_progress`, `previous_response_not_found`). */
  onRefused?(request: UpstreamRequest, code: string): void;
  /** The gateway let go of `turn`'s response before its end (cancelled, closed, went away). */
  onAbandoned?(turn: InjectedTurn): void;
  /** A WebSocket leftover of `owner`'s response went out, before `next`'s response. */
  onLeftoverSent?(owner: InjectedTurn, next: UpstreamRequest): void;
  /** A WebSocket upgrade to refuse, by its headers; undefined accepts it. */
  forUpgrade?(headers: Record<string, string>): UpgradeRefusal | undefined;
}

/** A plan entry that is not an event: raw bytes or a pause. runPlan (stream.ts) acts on it. */
export const directive = Symbol("fake-upstream directive");
export type Directive = { raw: string; binary: boolean } | { pauseMs: number };
export function isDirective(entry: unknown): entry is { [directive]: Directive } {
  return typeof entry === "object" && entry !== null && directive in entry;
}

/** The plan with the fault applied. `status` and `previous-not-found` are answered before any plan. */
export function applyFault(plan: Plan, fault: StreamFault | undefined, transport: "http" | "websocket"): Plan {
  if (!fault) return plan;
  const events = plan.events;
  // A cut lands before the terminal event, never on it (that would be a normal completion).
  const cutIndex = (at: number) => Math.min(events.length - 1, Math.max(0, Math.floor(at * events.length)));
  const failed = (head: any[], ending: Plan["ending"]): Plan => ({ ...plan, events: head, ending, completed: false, output: [], final: null });
  switch (fault.type) {
    case "status":
    case "previous-not-found":
      return plan;
    case "cut": {
      const ending = fault.how === "close" ? "truncate" : fault.how === "drop" ? "destroy" : "hang";
      return failed(events.slice(0, cutIndex(fault.at)), ending);
    }
    case "error-event": {
      const index = cutIndex(fault.at);
      const error = transport === "http"
        ? { type: "error", sequence_number: index, code: fault.code, message: fault.message, param: null }
        : { type: "error", status: fault.status, error: { type: fault.status >= 500 ? "server_error" : "invalid_request_error", code: fault.code, message: fault.message, param: null } };
      return failed([...events.slice(0, index), error], "end");
    }
    case "garbage": {
      const index = cutIndex(fault.at);
      const noise = { [directive]: { raw: fault.text, binary: fault.binary } };
      if (fault.thenEnd) return failed([...events.slice(0, index), noise], "truncate");
      return { ...plan, events: [...events.slice(0, index), noise, ...events.slice(index)] };
    }
    case "after-terminal": {
      const pause = fault.delayMs > 0 ? [{ [directive]: { pauseMs: fault.delayMs } }] : [];
      return { ...plan, events: [...events, ...pause, ...extraEvents(plan, fault.extras)] };
    }
    case "leftover": {
      const late = extraEvents(plan, fault.extras);
      if (transport === "websocket") return { ...plan, leftover: { events: late, nextDelayMs: fault.nextDelayMs } };
      return { ...plan, events: [...events, { [directive]: { pauseMs: 150 } }, ...late] };
    }
    case "trickle": {
      const slow = { ...plan, delayMs: fault.delayMs };
      return fault.stallAt === undefined ? slow : { ...failed(events.slice(0, cutIndex(fault.stallAt)), "hang"), delayMs: fault.delayMs };
    }
  }
}

/** Events of the plan's response that come after its terminal event. */
function extraEvents(plan: Plan, extras: ExtraEvent[]): any[] {
  const last = plan.events[plan.events.length - 1];
  let sequence = typeof last?.sequence_number === "number" ? last.sequence_number : plan.events.length;
  const response = plan.final ?? {};
  const itemId = plan.output[0]?.id ?? "msg_late";
  return extras.map((extra) => {
    sequence += 1;
    if (extra === "delta") {
      return { type: "response.output_text.delta", sequence_number: sequence, item_id: itemId, output_index: 0, content_index: 0, delta: " (late)", logprobs: [] };
    }
    if (extra === "completed") return { type: "response.completed", sequence_number: sequence, response };
    return {
      type: "response.failed", sequence_number: sequence,
      response: { ...response, status: "failed", output: [], error: { code: "server_error", message: "A second, contradicting terminal event." } },
    };
  });
}
