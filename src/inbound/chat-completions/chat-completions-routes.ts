/**
 * Inbound Chat Completions: `POST /v1/chat/completions` (and `/chat/completions`), served from
 * the Responses upstream through the pure translators in this folder, on the same session
 * machinery as the other protocols.
 *
 * Chat Completions clients rarely name a session, so when a request carries no session header
 * and no `prompt_cache_key`, the gateway derives one from the conversation itself (its model,
 * instructions and first user message: the same on every turn of one conversation); parallel
 * conversations that begin alike become separate chains of that session. A chain keeps the
 * reasoning on the provider's side, which a Chat Completions client cannot carry back.
 */
import { Hono, type Context } from "hono";
import type { GatewayEnv } from "../../gateway-env";
import { derivedSessionId, sessionIdFromBody, sessionIdFromHeaders } from "../../session/session-identity";
import { sseHeaders } from "../../streams/sse-writer";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { readJsonBody } from "../read-json-body";
import { assertModelAllowed } from "../../team/caller";
import { openTranslatedTurn, setSessionHeaders } from "../translated-turn";
import { chatCompletionObject, chatCompletionStream, limitChatOutput } from "./chat-completion-answer";
import { convertChatRequest, type ConvertedChatRequest } from "./convert-chat-request";

export const chatCompletionsPaths = ["/v1/chat/completions", "/chat/completions"] as const;
export const chatCompletionsRoutes = new Hono<GatewayEnv>();

for (const path of chatCompletionsPaths) chatCompletionsRoutes.post(path, createChatCompletion);

async function createChatCompletion(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const log = context.get("log");
  const { body } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const converted = convertChatRequest(body);
  log.model = converted.model;
  assertModelAllowed(context.get("caller"), converted.model);
  if (converted.notes.length > 0) log.extra.notes = converted.notes.join("; ").slice(0, 500);
  const sessionId = chatSessionId(context, converted);
  const supervised = superviseResponsesEvents(await openTranslatedTurn(context, converted.request, sessionId), {
    idleTimeoutMs: configuration.streamIdleTimeoutMs,
    outcome: log.outcome,
    onSettled: () => log.streamSettled(),
  });
  const events = limitChatOutput(supervised, converted, {
    onCut: (sequence) => {
      log.outcome.terminalType = sequence === undefined ? "response.incomplete" : "response.completed";
      log.extra.cut = sequence === undefined ? "max_tokens" : "stop_sequence";
    },
  });
  const headers = new Headers({ "x-turnpike-request-id": log.requestId });
  setSessionHeaders(headers, log);
  if (!converted.stream) {
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(await chatCompletionObject(events, converted)), { headers });
  }
  log.deferToStreamEnd();
  for (const [name, value] of Object.entries(sseHeaders)) headers.set(name, value);
  return new Response(chatCompletionStream(events, { ...converted, keepaliveIntervalMs: configuration.keepaliveIntervalMs }), { headers });
}

/** The session a request names (a header, its `prompt_cache_key`), else one derived from the conversation. */
function chatSessionId(context: Context<GatewayEnv>, converted: ConvertedChatRequest): string | undefined {
  const named = sessionIdFromHeaders(context.req.raw.headers) ?? sessionIdFromBody(converted.request);
  if (named !== undefined) return named;
  if (context.get("configuration").session.derive === "off") return undefined;
  const derived = derivedSessionId(converted.request);
  if (derived !== undefined) context.get("log").extra.session = "derived";
  return derived;
}
