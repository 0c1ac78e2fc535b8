/**
 * Inbound Chat Completions: `POST /v1/chat/completions` (and `/chat/completions`), served from
 * the Responses upstream through the pure translators in this folder. Stateless for now: every
 * request goes straight to the upstream (with failover), without a session object.
 */
import { Hono, type Context } from "hono";
import type { GatewayEnv } from "../../gateway-env";
import { openWithFailover } from "../../accounts/open-with-failover";
import { sseHeaders } from "../../streams/sse-writer";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { pickForwardedRequestHeaders } from "../../upstream/upstream-headers";
import { readJsonBody } from "../read-json-body";
import { chatCompletionObject, chatCompletionStream, limitChatOutput } from "./chat-completion-answer";
import { convertChatRequest } from "./convert-chat-request";

export const chatCompletionsPaths = ["/v1/chat/completions", "/chat/completions"] as const;
export const chatCompletionsRoutes = new Hono<GatewayEnv>();

for (const path of chatCompletionsPaths) chatCompletionsRoutes.post(path, createChatCompletion);

async function createChatCompletion(context: Context<GatewayEnv>): Promise<Response> {
  const configuration = context.get("configuration");
  const log = context.get("log");
  const { body } = await readJsonBody(context.req.raw, configuration.maxBodyBytes);
  const converted = convertChatRequest(body);
  log.model = converted.model;
  if (converted.notes.length > 0) log.extra.notes = converted.notes.join("; ").slice(0, 500);
  // A failure before any output is still an HTTP error with its status (or a failover).
  const opened = await openWithFailover({
    configuration,
    services: context.get("services"),
    log,
    body: converted.request,
    text: JSON.stringify(converted.request),
    headers: pickForwardedRequestHeaders(context.req.raw.headers),
    signal: context.req.raw.signal,
    alwaysHold: true,
  });
  const supervised = superviseResponsesEvents(opened.events, {
    idleTimeoutMs: configuration.streamIdleTimeoutMs,
    outcome: log.outcome,
    onSettled: () => log.streamSettled(),
  });
  const events = await limitChatOutput(supervised, converted, {
    onStop: () => {
      log.outcome.terminalType = "response.completed";
      log.extra.stop = "stop_sequence";
    },
  });
  const headers = new Headers({ "x-turnpike-request-id": log.requestId });
  if (!converted.stream) {
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(await chatCompletionObject(events, converted)), { headers });
  }
  log.deferToStreamEnd();
  for (const [name, value] of Object.entries(sseHeaders)) headers.set(name, value);
  return new Response(chatCompletionStream(events, { ...converted, keepaliveIntervalMs: configuration.keepaliveIntervalMs }), { headers });
}
