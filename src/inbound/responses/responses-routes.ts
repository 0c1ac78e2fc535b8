/**
 * Inbound OpenAI Responses API over HTTP: `POST …/responses`, `…/responses/compact`,
 * `GET …/models`, under each base a client may be configured with (`/v1`, none, and Codex's
 * `chatgpt_base_url` form `/backend-api/codex`). All bases behave identically.
 */
import { Hono, type Context } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { openResponsesStream } from "../../upstream/open-responses-stream";
import { prepareRequestBody } from "../../upstream/responses-upstream";
import { errorFromUpstreamResponse } from "../../upstream/upstream-error";
import { pickForwardedRequestHeaders, pickReturnedResponseHeaders } from "../../upstream/upstream-headers";
import { readJsonBody } from "../read-json-body";
import { sessionIdFromBody, sessionIdFromHeaders } from "../../session/session-identity";
import { parseCreateResponseRequest } from "./create-response-request";
import { forwardToSession, sessionNamespace } from "./session-routing";
import { respondWithEvents } from "./respond-with-events";

export const responsesBasePaths = ["/v1", "", "/backend-api/codex"] as const;

export const responsesRoutes = new Hono<GatewayEnv>();

for (const base of responsesBasePaths) {
  responsesRoutes.post(`${base}/responses`, createResponse);
  responsesRoutes.post(`${base}/responses/compact`, compactResponse);
  responsesRoutes.get(`${base}/models`, listModels);
  responsesRoutes.get(`${base}/responses`, openWebSocket);
}

async function createResponse(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const upstream = context.get("upstream");
  const log = context.get("log");
  const sessions = sessionNamespace(context);
  const headerSession = sessionIdFromHeaders(context.req.raw.headers);
  if (sessions && headerSession) return forwardToSession(context, sessions, headerSession, context.req.raw.body);

  const { body, text } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const request = parseCreateResponseRequest(body);
  log.model = request.model;
  const bodySession = sessionIdFromBody(body);
  if (sessions && bodySession) return forwardToSession(context, sessions, bodySession, text);

  const opened = await openResponsesStream(
    upstream,
    { body: prepareRequestBody(upstream.kind, body, text), headers: pickForwardedRequestHeaders(context.req.raw.headers) },
    { idleTimeoutMs: configuration.streamIdleTimeoutMs, signal: context.req.raw.signal },
  );
  log.upstreamStatus = opened.status;
  return respondWithEvents(opened.events, { streaming: request.stream === true, headers: opened.headers, configuration, log });
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

/**
 * Responses WebSocket mode, served by the session's Durable Object (a new session when the
 * client names none). Refused with 426 when turned off, which makes Codex use HTTP at once (§3).
 */
async function openWebSocket(context: Context<GatewayEnv>): Promise<Response> {
  if (context.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new GatewayError("method_not_allowed", "Use POST for this path, or GET with 'Upgrade: websocket'.");
  }
  const sessions = sessionNamespace(context);
  if (!sessions || context.get("configuration").websocketMode === "off") {
    throw new GatewayError("invalid_request", "WebSocket mode is turned off on this gateway; use HTTP.", { status: 426 });
  }
  const sessionId = sessionIdFromHeaders(context.req.raw.headers) ?? crypto.randomUUID();
  return forwardToSession(context, sessions, sessionId, null);
}

