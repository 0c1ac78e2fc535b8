/**
 * Inbound OpenAI Responses API over HTTP: `POST …/responses`, `…/responses/compact`,
 * `GET …/models`, under each base a client may be configured with (`/v1`, none, and Codex's
 * `chatgpt_base_url` form `/backend-api/codex`). All bases behave identically.
 */
import { Hono, type Context } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { openWithFailover } from "../../accounts/open-with-failover";
import { withFailover } from "../../accounts/failover";
import { errorFromUpstreamResponse } from "../../upstream/upstream-error";
import { pickForwardedRequestHeaders, pickReturnedResponseHeaders } from "../../upstream/upstream-headers";
import { readJsonBody } from "../read-json-body";
import { readUpstreamJson } from "../../upstream/read-upstream-json";
import { isRecord } from "../../streams/responses-event";
import { assertModelAllowed } from "../../team/caller";
import { matchesPattern } from "../../accounts/accounts-configuration";
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
  const log = context.get("log");
  const sessions = sessionNamespace(context);
  const headerSession = sessionIdFromHeaders(context.req.raw.headers);
  if (sessions && headerSession) return forwardToSession(context, sessions, headerSession, context.req.raw.body);

  const { body, text, bytes } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const request = parseCreateResponseRequest(body);
  log.model = request.model;
  assertModelAllowed(context.get("caller"), request.model);
  const bodySession = sessionIdFromBody(body);
  if (sessions && bodySession) return forwardToSession(context, sessions, bodySession, bytes ?? text);

  const opened = await openWithFailover({
    configuration,
    services: context.get("services"),
    log,
    body,
    original: bytes ?? text,
    headers: pickForwardedRequestHeaders(context.req.raw.headers),
    signal: context.req.raw.signal,
  });
  return respondWithEvents(opened.events, { streaming: request.stream === true, headers: opened.headers, configuration, log });
}

/** Remote compaction (Codex): plain JSON both ways, errors normalised like every other call. */
async function compactResponse(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const services = context.get("services");
  const log = context.get("log");
  const { body, text } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const model = parseCreateResponseRequest(body).model;
  log.model = model;
  assertModelAllowed(context.get("caller"), model);
  const { result: answer } = await withFailover({
    configuration,
    cooldowns: services.cooldowns,
    model,
    log,
    run: async (candidate) => {
      const upstream = services.upstreamFor(candidate.account);
      const response = await upstream.send("/responses/compact", {
        method: "POST",
        body: candidate.upstreamModel === model ? text : JSON.stringify({ ...body, model: candidate.upstreamModel }),
        headers: pickForwardedRequestHeaders(context.req.raw.headers),
        signal: context.req.raw.signal,
      });
      log.upstreamStatus = response.status;
      if (!response.ok) throw await errorFromUpstreamResponse(response, upstream.secrets);
      // Read whole, within the idle limit: a stalled or broken answer still fails over.
      const json = await readUpstreamJson(response, { idleTimeoutMs: configuration.streamIdleTimeoutMs, maxBytes: configuration.maxBodyBytes });
      return { json, headers: response.headers };
    },
  });
  return new Response(JSON.stringify(answer.json), {
    headers: pickReturnedResponseHeaders(answer.headers, new Headers({ "content-type": "application/json" })),
  });
}

/**
 * The models this gateway serves: every exact name and alias of every account. An account that
 * serves everything (`*`, the single-upstream shorthand) lists what its upstream lists.
 */
async function listModels(context: Context<GatewayEnv>): Promise<Response> {
  const { accounts } = context.get("configuration");
  const services = context.get("services");
  const names = new Set<string>();
  for (const account of accounts) for (const rule of account.models) if (!rule.pattern.includes("*")) names.add(rule.pattern);
  const wildcard = accounts.find((account) => account.models.some((rule) => rule.pattern === "*"));
  if (wildcard) {
    const upstream = services.upstreamFor(wildcard);
    const response = await upstream.send("/models", {
      method: "GET",
      headers: pickForwardedRequestHeaders(context.req.raw.headers),
      search: new URL(context.req.url).search,
      signal: context.req.raw.signal,
    });
    context.get("log").upstreamStatus = response.status;
    if (!response.ok) throw await errorFromUpstreamResponse(response, upstream.secrets);
    const listed = await readUpstreamJson(response, { idleTimeoutMs: context.get("configuration").streamIdleTimeoutMs, maxBytes: 8 * 1024 * 1024 });
    if (names.size === 0 && !context.get("caller").models) {
      return new Response(JSON.stringify(listed), { headers: pickReturnedResponseHeaders(response.headers, new Headers({ "content-type": "application/json" })) });
    }
    const data = isRecord(listed) && Array.isArray(listed.data) ? listed.data : [];
    for (const model of data) if (isRecord(model) && typeof model.id === "string") names.add(model.id);
  }
  const allowed = context.get("caller").models;
  const listed = allowed ? [...names].filter((name) => allowed.some((pattern) => matchesPattern(pattern, name))) : [...names];
  return context.json({ object: "list", data: listed.map((id) => ({ id, object: "model", created: 0, owned_by: "turnpike" })) });
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
  const named = sessionIdFromHeaders(context.req.raw.headers);
  // A socket that names no session gets one of its own, forgotten when the socket closes.
  return forwardToSession(context, sessions, named ?? crypto.randomUUID(), null, { ephemeral: named === undefined });
}

