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
import { sseHeaders } from "../../streams/sse-writer";
import { cutOutput } from "../../streams/cut-output";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { readJsonBody } from "../read-json-body";
import { assertModelAllowed } from "../../team/caller";
import { openTranslatedTurn, setSessionHeaders } from "../translated-turn";
import { convertMessagesRequest, type ConvertedRequest } from "./convert-messages-request";
import { anthropicEventsFromResponses, anthropicPing, encodeAnthropicEvents } from "./convert-responses-stream";
import { responseToAnthropicMessage } from "./convert-responses-response";
import { countedTokens } from "./count-tokens-route";
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
  assertModelAllowed(context.get("caller"), parsed.data.model, String(converted.request.model));
  // The model it goes upstream as (MODEL_MAP): what its usage row and cost are counted under.
  // (An account's alias, if any, overrides it later, in failover.)
  if (converted.request.model !== parsed.data.model) context.get("log").extra.upstream_model = String(converted.request.model);
  return { source: parsed.data, converted };
}

async function createMessage(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const log = context.get("log");
  const { source, converted } = await parseMessagesRequest(context);
  if (converted.notes.length > 0) log.extra.notes = converted.notes.join("; ").slice(0, 500);
  const supervised = superviseResponsesEvents(await openTranslatedTurn(context, converted.request, converted.sessionId), {
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
  setSessionHeaders(headers, log);
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

async function countTokens(context: Context<GatewayEnv>): Promise<Response> {
  const { converted } = await parseMessagesRequest(context);
  return context.json({ input_tokens: await countedTokens(context.env, converted.request) });
}
