/**
 * The guarantee every Responses stream gets: it ends with exactly one terminal event.
 *
 * Upstream events pass through untouched until one of these happens, each turned into a
 * `response.failed` (never a bare `error`, which strict clients do not treat as terminal):
 * - the upstream sends a flat `error` event (its code and message are kept);
 * - the upstream closes, or its connection breaks, before a terminal event;
 * - the upstream is silent for longer than the idle limit.
 * Anything after the terminal event is dropped and the upstream is released. A downstream
 * cancel (client gone) cancels the upstream read, which aborts the upstream request.
 */
import { GatewayError } from "../errors/gateway-error";
import { responseFailedEvent } from "../errors/render-openai-error";
import { statusForResponseErrorCode } from "../upstream/upstream-error";
import { IdleWatch } from "./idle-watch";
import { eventFromPayload, eventPayload, isRecord, terminalEventTypes, type ResponsesEvent } from "./responses-event";
import type { EventBatch, EventReader } from "./event-reader";

/** What happened on a stream, for the request log and the session. Filled in as events pass. */
export interface StreamOutcome {
  /**
   * The last `response.created`/`in_progress`, parsed only if a failure must name its response:
   * it echoes the whole request (instructions, tools), too much to parse on every stream.
   */
  openingEvent?: ResponsesEvent;
  eventCount: number;
  firstEventAt?: number;
  /** The terminal event type sent downstream, or `client_disconnected`. */
  terminalType?: string;
  terminalPayload?: Record<string, unknown>;
  failure?: GatewayError;
}

export interface SuperviseOptions {
  idleTimeoutMs: number;
  outcome?: StreamOutcome;
  /** Called once when the stream ends for any reason. */
  onSettled?(outcome: StreamOutcome): void;
}

export function newStreamOutcome(): StreamOutcome {
  return { eventCount: 0 };
}

/** What to send after one read of the upstream, and whether the stream ends with it. */
export interface SupervisedStep {
  batch: EventBatch;
  ended: boolean;
}

/** One read of the upstream: a batch, its end, a broken connection, or the idle limit. */
export type UpstreamRead = ReadableStreamReadResult<EventBatch> | { broken: unknown } | "idle";

/**
 * The supervision itself, synchronous and transport-free, so that it can drive a
 * reader (`superviseResponsesEvents`) or sit inside one write loop (the SSE path).
 */
export class Supervision {
  readonly outcome: StreamOutcome;
  readonly idle: IdleWatch;
  #settled = false;

  constructor(
    private readonly options: SuperviseOptions,
    /** Lets go of the upstream (its read is cancelled): after a terminal event, an error, idle. */
    private readonly releaseUpstream: (reason: string) => void,
  ) {
    this.outcome = options.outcome ?? newStreamOutcome();
    this.idle = new IdleWatch(options.idleTimeoutMs);
  }

  step(read: UpstreamRead): SupervisedStep {
    const outcome = this.outcome;
    if (read === "idle") {
      this.releaseUpstream("idle timeout");
      const seconds = Math.round(this.idle.limitMs / 1000);
      const message = `The upstream sent nothing for ${seconds} s; the gateway stopped waiting for this response.`;
      return this.#end([], this.#failed(new GatewayError("upstream_idle_timeout", message)));
    }
    if ("broken" in read) {
      const message = "The connection to the upstream broke before the response completed.";
      return this.#end([], this.#failed(new GatewayError("upstream_disconnected", message, { cause: read.broken })));
    }
    if (read.done) {
      const message = "The upstream closed the stream before the response completed.";
      return this.#end([], this.#failed(new GatewayError("upstream_disconnected", message)));
    }
    outcome.firstEventAt ??= Date.now();
    const passed: EventBatch = [];
    for (const event of read.value) {
      outcome.eventCount += 1;
      if (event.type === "response.created" || event.type === "response.in_progress") {
        outcome.openingEvent = event;
      } else if (event.type === "error") {
        this.releaseUpstream("upstream error event");
        return this.#end(passed, this.#failed(errorFromErrorEvent(eventPayload(event))));
      } else if (terminalEventTypes.has(event.type)) {
        const payload = eventPayload(event);
        outcome.terminalType = event.type;
        outcome.terminalPayload = payload;
        // Anything after the terminal event is dropped; the upstream is done with.
        this.releaseUpstream("terminal event received");
        return this.#end(passed, event);
      }
      passed.push(event);
    }
    return { batch: passed, ended: false };
  }

  /** The client went away. */
  cancelled(): void {
    this.outcome.terminalType ??= "client_disconnected";
    this.settle();
  }

  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.idle.stop();
    this.options.onSettled?.(this.outcome);
  }

  #end(batch: EventBatch, terminal: ResponsesEvent): SupervisedStep {
    batch.push(terminal);
    this.settle();
    return { batch, ended: true };
  }

  #failed(error: GatewayError): ResponsesEvent {
    const outcome = this.outcome;
    outcome.failure = error;
    const opening = outcome.openingEvent ? eventPayload(outcome.openingEvent).response : undefined;
    const response = isRecord(opening) ? opening : {};
    const payload = responseFailedEvent(error, {
      responseId: typeof response.id === "string" ? response.id : undefined,
      model: typeof response.model === "string" ? response.model : undefined,
      createdAt: typeof response.created_at === "number" ? response.created_at : undefined,
      sequenceNumber: outcome.eventCount,
    }) as { type: string };
    outcome.terminalType = "response.failed";
    outcome.terminalPayload = payload;
    return eventFromPayload(payload);
  }
}

/** Reads once, within the idle limit (which counts only while we wait on the upstream). */
export async function readUpstream(reader: EventReader, idle: IdleWatch): Promise<UpstreamRead> {
  idle.waiting();
  try {
    return await Promise.race([reader.read(), idle.expired]);
  } catch (broken) {
    return { broken };
  } finally {
    // What the caller does next (a write to a slow client) is not the upstream's silence.
    idle.touch();
  }
}

export function superviseResponsesEvents(source: EventReader, options: SuperviseOptions): EventReader {
  const supervision = new Supervision(options, (reason) => void source.cancel(reason).catch(() => {}));
  let ended = false;
  return {
    async read() {
      while (!ended) {
        const step = supervision.step(await readUpstream(source, supervision.idle));
        ended = step.ended;
        if (step.batch.length > 0) return { done: false, value: step.batch };
      }
      return { done: true, value: undefined };
    },
    cancel(reason) {
      ended = true;
      supervision.cancelled();
      return source.cancel(reason);
    },
  };
}

/** A flat SSE `error` (`{type, code, message, param}`) or the nested WebSocket form. */
export function errorFromErrorEvent(payload: Record<string, unknown>): GatewayError {
  const nested = isRecord(payload.error) ? payload.error : payload;
  const code = typeof nested.code === "string" ? nested.code : "server_error";
  const message = typeof nested.message === "string" && nested.message ? nested.message : "The upstream reported an error.";
  const status = typeof payload.status === "number" ? payload.status : statusForResponseErrorCode(code);
  return new GatewayError("upstream_error", message, {
    code,
    status,
    param: typeof nested.param === "string" ? nested.param : null,
    type: typeof nested.type === "string" ? nested.type : undefined,
  });
}
