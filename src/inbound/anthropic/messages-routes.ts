/**
 * Inbound Anthropic Messages API: `POST /v1/messages` (Claude Code adds `?beta=true`) and
 * `POST /v1/messages/count_tokens`, served from the Responses upstream. A conversation with a
 * session id (`x-claude-code-session-id`, or `metadata.user_id`'s `session_id`) goes through its
 * session Durable Object, so Claude Code turns continue as deltas like Codex turns do.
 */
import { Hono, type Context } from "hono";
import type { GatewayEnv } from "../../gateway-env";
import { GatewayError } from "../../errors/gateway-error";
import { sessionIdFromHeaders } from "../../session/session-identity";
import { aggregateResponse } from "../../streams/aggregate-response";
import { encodeWithKeepalive } from "../../streams/keepalive-encoder";
import type { EventReader } from "../../streams/event-reader";
import { readResponsesEvents } from "../../streams/sse-reader";
import { sseHeaders } from "../../streams/sse-writer";
import { cutOutput } from "../../streams/cut-output";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { openWithFailover } from "../../accounts/open-with-failover";
import { errorFromUpstreamResponse } from "../../upstream/upstream-error";
import { pickForwardedRequestHeaders } from "../../upstream/upstream-headers";
import { readJsonBody } from "../read-json-body";
import { forwardToSession, sessionNamespace } from "../responses/session-routing";
import { convertMessagesRequest, type ConvertedRequest } from "./convert-messages-request";
import { anthropicEventsFromResponses, anthropicPing, encodeAnthropicEvents } from "./convert-responses-stream";
import { responseToAnthropicMessage } from "./convert-responses-response";
import { countRequestTokens } from "./count-tokens";
import { messagesRequestSchema, type MessagesRequest } from "./messages-api";

export const messagesRoutes = new Hono<GatewayEnv>();
export const messagesPaths = ["/v1/messages", "/v1/messages/count_tokens"] as const;

messagesRoutes.post("/v1/messages", createMessage);
messagesRoutes.post("/v1/messages/count_tokens", countTokens);

async function parseMessagesRequest(context: Context<GatewayEnv>): Promise<{ source: MessagesRequest; converted: ConvertedRequest }> {
  const configuration = context.get("configuration");
  const { body } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const parsed = messagesRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.join(".") || null;
    throw new GatewayError("invalid_request", `${param ? `${param}: ` : ""}${issue?.message ?? "invalid request"}`, { param });
  }
  context.get("log").model = parsed.data.model;
  const converted = convertMessagesRequest(parsed.data, {
    modelMap: configuration.modelMap,
    sessionId: sessionIdFromHeaders(context.req.raw.headers),
  });
  return { source: parsed.data, converted };
}

async function createMessage(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const log = context.get("log");
  const { source, converted } = await parseMessagesRequest(context);
  if (converted.notes.length > 0) log.extra.notes = converted.notes.join("; ").slice(0, 500);
  const supervised = superviseResponsesEvents(await responsesEvents(context, converted), {
    idleTimeoutMs: configuration.streamIdleTimeoutMs,
    outcome: log.outcome,
    onSettled: () => log.streamSettled(),
  });
  const events = cutOutput(supervised, {
    stopSequences: source.stop_sequences,
    maxTextDeltas: converted.maxTextDeltas,
    onCut: (sequence) => {
      log.outcome.terminalType = sequence === undefined ? "response.incomplete" : "response.completed";
      log.extra.cut = sequence === undefined ? "max_tokens" : "stop_sequence";
    },
  });
  const headers = new Headers({ "request-id": log.requestId });
  if (typeof log.extra.turn === "string") headers.set("x-turnpike-turn", log.extra.turn);
  if (typeof log.extra.full_reason === "string") headers.set("x-turnpike-full-reason", log.extra.full_reason);
  if (typeof log.extra.history === "string") headers.set("x-turnpike-history", log.extra.history);
  if (typeof log.extra.chain === "string") headers.set("x-turnpike-chain", log.extra.chain);
  if (typeof log.extra.chains === "number") headers.set("x-turnpike-chains", String(log.extra.chains));
  if (source.stream !== true) {
    const message = responseToAnthropicMessage(await aggregateResponse(events), { model: source.model });
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(message), { headers });
  }
  log.deferToStreamEnd();
  for (const [name, value] of Object.entries(sseHeaders)) headers.set(name, value);
  const stream = encodeWithKeepalive(anthropicEventsFromResponses(events, { model: source.model }), {
    encode: encodeAnthropicEvents,
    keepalive: () => encodeAnthropicEvents([anthropicPing]),
    intervalMs: configuration.keepaliveIntervalMs,
  });
  return new Response(stream, { headers });
}

/**
 * The translated request's Responses events: through the session object when the conversation
 * has an id, else straight from the upstream. Failures before the first byte are thrown, to be
 * rendered as Anthropic errors.
 */
async function responsesEvents(context: Context<GatewayEnv>, converted: ConvertedRequest): Promise<EventReader> {
  const sessions = sessionNamespace(context);
  const body = JSON.stringify(converted.request);
  if (sessions && converted.sessionId) {
    const response = await forwardToSession(context, sessions, converted.sessionId, body, { keepLog: true });
    const log = context.get("log");
    log.extra.turn = response.headers.get("x-turnpike-turn") ?? undefined;
    log.extra.full_reason = response.headers.get("x-turnpike-full-reason") ?? undefined;
    log.extra.history = response.headers.get("x-turnpike-history") ?? undefined;
    log.extra.chain = response.headers.get("x-turnpike-chain") ?? undefined;
    const chains = Number(response.headers.get("x-turnpike-chains") ?? Number.NaN);
    if (Number.isFinite(chains)) log.extra.chains = chains;
    if (!response.ok || !response.body) throw await errorFromUpstreamResponse(response, []);
    return readResponsesEvents(response.body);
  }
  // A failure before any output (the ChatGPT backend's in-stream `server_is_overloaded`) is
  // still an HTTP error for Anthropic clients — a 529 they back off from — or a failover.
  const opened = await openWithFailover({
    configuration: context.get("configuration"),
    services: context.get("services"),
    log: context.get("log"),
    body: converted.request,
    text: body,
    headers: pickForwardedRequestHeaders(context.req.raw.headers),
    signal: context.req.raw.signal,
    alwaysHold: true,
  });
  return opened.events;
}

async function countTokens(context: Context<GatewayEnv>): Promise<Response> {
  const { converted } = await parseMessagesRequest(context);
  return context.json({ input_tokens: await countRequestTokens(converted.request) });
}
