/**
 * A supervised Responses event stream → the HTTP answer a Responses client asked for: SSE with
 * keepalives for `stream: true`, the aggregated response object otherwise. Used by the
 * stateless path and by the session Durable Object alike.
 */
import type { Configuration } from "../../configuration/configuration";
import type { RequestLog } from "../../middleware/request-log";
import { aggregateResponse } from "../../streams/aggregate-response";
import type { EventReader } from "../../streams/event-reader";
import { sseHeaders } from "../../streams/sse-writer";
import { supervisedResponsesSse } from "../../streams/supervised-sse";
import { superviseResponsesEvents, type StreamOutcome } from "../../streams/supervise-responses-events";

export interface RespondOptions {
  streaming: boolean;
  headers: Headers;
  configuration: Configuration;
  log: RequestLog;
  onSettled?(outcome: StreamOutcome): void;
}

export async function respondWithEvents(events: EventReader, options: RespondOptions): Promise<Response> {
  const { configuration, log } = options;
  if (options.streaming) log.deferToStreamEnd();
  const supervise = {
    idleTimeoutMs: configuration.streamIdleTimeoutMs,
    outcome: log.outcome,
    onSettled: (outcome: StreamOutcome) => {
      options.onSettled?.(outcome);
      log.streamSettled();
    },
  };
  const headers = new Headers(options.headers);
  headers.set("x-turnpike-request-id", log.requestId);
  if (!options.streaming) {
    const response = await aggregateResponse(superviseResponsesEvents(events, supervise));
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(response), { headers });
  }
  for (const [name, value] of Object.entries(sseHeaders)) headers.set(name, value);
  const stream = supervisedResponsesSse(events, { ...supervise, keepaliveIntervalMs: configuration.keepaliveIntervalMs });
  return new Response(stream, { status: 200, headers });
}
