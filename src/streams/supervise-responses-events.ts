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
import type { EventBatch } from "./sse-reader";

/** What happened on a stream, for the request log and the session. Filled in as events pass. */
export interface StreamOutcome {
  responseId?: string;
  model?: string;
  createdAt?: number;
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

export function superviseResponsesEvents(
  source: ReadableStream<EventBatch>,
  options: SuperviseOptions,
): ReadableStream<EventBatch> {
  const outcome = options.outcome ?? newStreamOutcome();
  const reader = source.getReader();
  const idle = new IdleWatch(options.idleTimeoutMs);
  let settled = false;

  const settle = () => {
    if (settled) return;
    settled = true;
    idle.stop();
    options.onSettled?.(outcome);
  };
  const releaseUpstream = (reason: string) => {
    reader.cancel(reason).catch(() => {});
  };
  /** Ends the stream: what passed so far, then the terminal event, then close. */
  const end = (controller: ReadableStreamDefaultController<EventBatch>, batch: EventBatch, terminal: ResponsesEvent) => {
    batch.push(terminal);
    controller.enqueue(batch);
    controller.close();
    settle();
  };
  const failed = (error: GatewayError): ResponsesEvent => {
    outcome.failure = error;
    const payload = responseFailedEvent(error, {
      responseId: outcome.responseId,
      model: outcome.model,
      createdAt: outcome.createdAt,
      sequenceNumber: outcome.eventCount,
    }) as { type: string };
    outcome.terminalType = "response.failed";
    outcome.terminalPayload = payload;
    return eventFromPayload(payload);
  };

  return new ReadableStream<EventBatch>(
    {
      async pull(controller) {
        idle.touch();
        let result: ReadableStreamReadResult<EventBatch> | "idle";
        try {
          result = await Promise.race([reader.read(), idle.expired]);
        } catch (cause) {
          const message = "The connection to the upstream broke before the response completed.";
          end(controller, [], failed(new GatewayError("upstream_disconnected", message, { cause })));
          return;
        }
        if (result === "idle") {
          releaseUpstream("idle timeout");
          const seconds = Math.round(idle.limitMs / 1000);
          const message = `The upstream sent nothing for ${seconds} s; the gateway stopped waiting for this response.`;
          end(controller, [], failed(new GatewayError("upstream_idle_timeout", message)));
          return;
        }
        if (result.done) {
          const message = "The upstream closed the stream before the response completed.";
          end(controller, [], failed(new GatewayError("upstream_disconnected", message)));
          return;
        }
        outcome.firstEventAt ??= Date.now();
        const passed: EventBatch = [];
        for (const event of result.value) {
          outcome.eventCount += 1;
          if (event.type === "response.created" || event.type === "response.in_progress") {
            rememberResponse(outcome, eventPayload(event).response);
          } else if (event.type === "error") {
            releaseUpstream("upstream error event");
            end(controller, passed, failed(errorFromErrorEvent(eventPayload(event))));
            return;
          } else if (terminalEventTypes.has(event.type)) {
            const payload = eventPayload(event);
            outcome.terminalType = event.type;
            outcome.terminalPayload = payload;
            rememberResponse(outcome, payload.response);
            // Anything after the terminal event is dropped; the upstream is done with.
            releaseUpstream("terminal event received");
            end(controller, passed, event);
            return;
          }
          passed.push(event);
        }
        if (passed.length > 0) controller.enqueue(passed);
      },
      cancel(reason) {
        outcome.terminalType ??= "client_disconnected";
        settle();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function rememberResponse(outcome: StreamOutcome, response: unknown): void {
  if (!isRecord(response)) return;
  if (typeof response.id === "string") outcome.responseId = response.id;
  if (typeof response.model === "string") outcome.model = response.model;
  if (typeof response.created_at === "number") outcome.createdAt = response.created_at;
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
