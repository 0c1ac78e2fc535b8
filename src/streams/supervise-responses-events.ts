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
import { IdleWatch } from "./idle-watch";
import { eventFromPayload, eventPayload, isRecord, terminalEventTypes, type ResponsesEvent } from "./responses-event";

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
  source: ReadableStream<ResponsesEvent>,
  options: SuperviseOptions,
): ReadableStream<ResponsesEvent> {
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
  const fail = (controller: ReadableStreamDefaultController<ResponsesEvent>, error: GatewayError) => {
    outcome.failure = error;
    const failed = responseFailedEvent(error, {
      responseId: outcome.responseId,
      model: outcome.model,
      createdAt: outcome.createdAt,
      sequenceNumber: outcome.eventCount,
    }) as { type: string };
    outcome.terminalType = "response.failed";
    outcome.terminalPayload = failed;
    controller.enqueue(eventFromPayload(failed));
    controller.close();
    settle();
  };

  return new ReadableStream<ResponsesEvent>(
    {
      async pull(controller) {
        idle.touch();
        let result: ReadableStreamReadResult<ResponsesEvent> | "idle";
        try {
          result = await Promise.race([reader.read(), idle.expired]);
        } catch (cause) {
          fail(
            controller,
            new GatewayError("upstream_disconnected", "The connection to the upstream broke before the response completed.", {
              cause,
            }),
          );
          return;
        }
        if (result === "idle") {
          releaseUpstream("idle timeout");
          fail(
            controller,
            new GatewayError(
              "upstream_idle_timeout",
              `The upstream sent nothing for ${Math.round(idle.limitMs / 1000)} s; the gateway stopped waiting for this response.`,
            ),
          );
          return;
        }
        if (result.done) {
          fail(
            controller,
            new GatewayError("upstream_disconnected", "The upstream closed the stream before the response completed."),
          );
          return;
        }
        const event = result.value;
        outcome.eventCount += 1;
        outcome.firstEventAt ??= Date.now();
        if (event.type === "response.created" || event.type === "response.in_progress") {
          rememberResponse(outcome, eventPayload(event).response);
        } else if (event.type === "error") {
          releaseUpstream("upstream error event");
          fail(controller, errorFromErrorEvent(eventPayload(event)));
          return;
        } else if (terminalEventTypes.has(event.type)) {
          const payload = eventPayload(event);
          outcome.terminalType = event.type;
          outcome.terminalPayload = payload;
          rememberResponse(outcome, payload.response);
          controller.enqueue(event);
          controller.close();
          releaseUpstream("terminal event received");
          settle();
          return;
        }
        controller.enqueue(event);
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
  const status = typeof payload.status === "number" ? payload.status : undefined;
  return new GatewayError("upstream_error", message, {
    code,
    status,
    param: typeof nested.param === "string" ? nested.param : null,
    type: typeof nested.type === "string" ? nested.type : undefined,
  });
}
