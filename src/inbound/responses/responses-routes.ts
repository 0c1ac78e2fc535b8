/**
 * Inbound OpenAI Responses API over HTTP: `POST …/responses`, `…/responses/compact`,
 * `GET …/models`, under each base a client may be configured with (`/v1`, none, and Codex's
 * `chatgpt_base_url` form `/backend-api/codex`). All bases behave identically.
 */
import { Hono, type Context } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { aggregateResponse } from "../../streams/aggregate-response";
import { encodeWithKeepalive } from "../../streams/keepalive-encoder";
import { encodeResponsesBatch, encodeSseComment, sseHeaders } from "../../streams/sse-writer";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { openResponsesStream } from "../../upstream/open-responses-stream";
import { prepareRequestBody } from "../../upstream/responses-upstream";
import { errorFromUpstreamResponse } from "../../upstream/upstream-error";
import { pickForwardedRequestHeaders, pickReturnedResponseHeaders } from "../../upstream/upstream-headers";
import { readJsonBody } from "../read-json-body";
import { parseCreateResponseRequest } from "./create-response-request";

export const responsesBasePaths = ["/v1", "", "/backend-api/codex"] as const;

export const responsesRoutes = new Hono<GatewayEnv>();

for (const base of responsesBasePaths) {
  responsesRoutes.post(`${base}/responses`, createResponse);
  responsesRoutes.post(`${base}/responses/compact`, compactResponse);
  responsesRoutes.get(`${base}/models`, listModels);
  responsesRoutes.get(`${base}/responses`, refuseWebSocketUntilSupported);
}

async function createResponse(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const upstream = context.get("upstream");
  const log = context.get("log");
  const { body, text } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const request = parseCreateResponseRequest(body);
  log.model = request.model;

  const opened = await openResponsesStream(
    upstream,
    { body: prepareRequestBody(upstream.kind, body, text), headers: pickForwardedRequestHeaders(context.req.raw.headers) },
    { idleTimeoutMs: configuration.streamIdleTimeoutMs, signal: context.req.raw.signal },
  );
  log.upstreamStatus = opened.status;
  const streaming = request.stream === true;
  if (streaming) log.deferToStreamEnd();
  const events = superviseResponsesEvents(opened.events, {
    idleTimeoutMs: configuration.streamIdleTimeoutMs,
    outcome: log.outcome,
    onSettled: () => log.streamSettled(),
  });

  if (!streaming) {
    const response = await aggregateResponse(events);
    return Response.json(response, { headers: opened.headers });
  }
  const headers = new Headers(opened.headers);
  for (const [name, value] of Object.entries(sseHeaders)) headers.set(name, value);
  headers.set("x-turnpike-request-id", log.requestId);
  const stream = encodeWithKeepalive(events, {
    encode: encodeResponsesBatch,
    keepalive: () => encodeSseComment("keepalive"),
    intervalMs: configuration.keepaliveIntervalMs,
  });
  return new Response(stream, { status: 200, headers });
}

/** Remote compaction (Codex): plain JSON both ways, errors normalised like every other call. */
async function compactResponse(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const upstream = context.get("upstream");
  const { body, text } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  context.get("log").model = parseCreateResponseRequest(body).model;
  const response = await upstream.send("/responses/compact", {
    method: "POST",
    body: text,
    headers: pickForwardedRequestHeaders(context.req.raw.headers),
    signal: context.req.raw.signal,
  });
  context.get("log").upstreamStatus = response.status;
  if (!response.ok) throw await errorFromUpstreamResponse(response, upstream.secrets);
  return new Response(response.body, {
    status: response.status,
    headers: pickReturnedResponseHeaders(response.headers, new Headers({ "content-type": "application/json" })),
  });
}

async function listModels(context: Context<GatewayEnv>): Promise<Response> {
  const upstream = context.get("upstream");
  const response = await upstream.send("/models", {
    method: "GET",
    headers: pickForwardedRequestHeaders(context.req.raw.headers),
    search: new URL(context.req.url).search,
    signal: context.req.raw.signal,
  });
  context.get("log").upstreamStatus = response.status;
  if (!response.ok) throw await errorFromUpstreamResponse(response, upstream.secrets);
  return new Response(response.body, {
    status: response.status,
    headers: pickReturnedResponseHeaders(response.headers, new Headers({ "content-type": "application/json" })),
  });
}

/** WebSocket mode arrives with the session Durable Object; 426 makes Codex use HTTP at once (§3). */
function refuseWebSocketUntilSupported(context: Context<GatewayEnv>): Response {
  if (context.req.header("upgrade")?.toLowerCase() === "websocket") {
    throw new GatewayError("invalid_request", "WebSocket mode is not enabled on this gateway; use HTTP.", { status: 426 });
  }
  throw new GatewayError("method_not_allowed", "Use POST for this path.");
}

