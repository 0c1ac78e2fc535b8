/**
 * A turn of a client that does not speak Responses (Anthropic Messages, Chat Completions), once
 * its request is translated: through the session object when the conversation has an id, else
 * straight to the upstream with failover. Either way the events are held until the first output,
 * so that a failure before it is an HTTP error in the client's own shape — a 529 or a 429 it
 * backs off from — or a failover, never half a stream.
 */
import type { Context } from "hono";
import { openWithFailover } from "../accounts/open-with-failover";
import type { GatewayEnv } from "../gateway-env";
import type { RequestLog } from "../middleware/request-log";
import type { EventReader } from "../streams/event-reader";
import { readResponsesEvents } from "../streams/sse-reader";
import { errorFromUpstreamResponse } from "../upstream/upstream-error";
import { pickForwardedRequestHeaders } from "../upstream/upstream-headers";
import { forwardToSession, sessionNamespace } from "./responses/session-routing";

/** What the session said about a turn, copied to the log and back to the client. */
const sessionHeaders = [
  ["x-turnpike-turn", "turn"],
  ["x-turnpike-full-reason", "full_reason"],
  ["x-turnpike-history", "history"],
  ["x-turnpike-chain", "chain"],
  ["x-turnpike-chains", "chains"],
] as const;

export async function openTranslatedTurn(context: Context<GatewayEnv>, request: Record<string, unknown>, sessionId: string | undefined): Promise<EventReader> {
  const sessions = sessionNamespace(context);
  const body = JSON.stringify(request);
  const log = context.get("log");
  if (sessions && sessionId) {
    const response = await forwardToSession(context, sessions, sessionId, body, { keepLog: true });
    for (const [header, field] of sessionHeaders) {
      const value = response.headers.get(header);
      if (value !== null) log.extra[field] = field === "chains" ? Number(value) : value;
    }
    if (!response.ok || !response.body) throw await errorFromUpstreamResponse(response, []);
    return readResponsesEvents(response.body);
  }
  const opened = await openWithFailover({
    configuration: context.get("configuration"),
    services: context.get("services"),
    log,
    body: request,
    original: body,
    headers: pickForwardedRequestHeaders(context.req.raw.headers),
    signal: context.req.raw.signal,
    alwaysHold: true,
  });
  return opened.events;
}

/** The session's account of the turn, on the client's response. */
export function setSessionHeaders(headers: Headers, log: RequestLog): void {
  for (const [header, field] of sessionHeaders) {
    const value = log.extra[field];
    if (value !== undefined) headers.set(header, String(value));
  }
}
