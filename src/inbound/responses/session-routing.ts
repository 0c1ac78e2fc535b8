/**
 * Hands a Responses request to its session's Durable Object, which keeps the upstream
 * WebSocket and the conversation state. The body is passed on unread when the session is
 * named in a header, so the Worker does not parse a multi-megabyte history twice.
 */
import type { Context } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { internalHeaders, isWebSocketUpgrade, type SessionDurableObject } from "../../session/session-durable-object";
import { sessionObjectName } from "../../session/session-identity";
import { assertReadableBody } from "../read-json-body";
import { waitUntilOf } from "../../middleware/gateway-auth";

export function sessionNamespace(context: Context<GatewayEnv>): DurableObjectNamespace | undefined {
  const binding = context.env?.SESSIONS as DurableObjectNamespace | undefined;
  return binding && typeof binding.idFromName === "function" ? binding : undefined;
}

export async function forwardToSession(
  context: Context<GatewayEnv>,
  namespace: DurableObjectNamespace,
  sessionId: string,
  body: BodyInit | null,
  options: { keepLog?: boolean; ephemeral?: boolean } = {},
): Promise<Response> {
  const log = context.get("log");
  const name = await sessionObjectName(context.get("gatewayKeyId"), sessionId);
  const id = namespace.idFromName(name);
  const stub = namespace.get(id) as DurableObjectStub<SessionDurableObject>;
  const headers = new Headers(context.req.raw.headers);
  // The session needs no client credential: upstream headers are built from an allowlist.
  headers.delete("authorization");
  headers.delete("x-api-key");
  headers.set(internalHeaders.requestId, log.requestId);
  headers.set(internalHeaders.route, log.route);
  headers.set(internalHeaders.caller, JSON.stringify(context.get("caller")));
  // Which session served the request, for its usage row: its object's id, never the client's session id.
  log.extra.session_ref = id.toString().slice(0, 12);
  // The session writes this request's log line (it sees the turn to its end), unless the caller
  // translates the answer and logs it itself.
  if (options.keepLog) headers.set(internalHeaders.logOwner, "caller");
  if (options.ephemeral) headers.set(internalHeaders.ephemeral, "1");
  const isUpgrade = isWebSocketUpgrade(context.req.raw);
  // On anything but a GET, `Upgrade` means nothing (RFC 6455 §4.1), and the runtime would turn
  // a request that carries it into a socket handshake.
  if (!isUpgrade) {
    headers.delete("upgrade");
    headers.delete("connection");
  }
  // A body passed on unread is judged by its headers here: refused in the object instead, it
  // would be left unread mid-pipe, which the runtime reports as an uncaught error in the Worker.
  if (body instanceof ReadableStream) assertReadableBody(context.req.raw.headers, context.get("configuration").maxBodyBytes);
  if (typeof body === "string") {
    // The body was read (or translated) here: its length and encoding are ours now.
    headers.delete("content-length");
    headers.delete("content-encoding");
  }
  if (!isUpgrade) cancelOnDisconnect(context, stub, log.requestId);
  let response: Response;
  try {
    response = await stub.fetch("https://session.turnpike/turn", { method: isUpgrade ? "GET" : "POST", headers, body: isUpgrade ? null : body });
  } catch (cause) {
    // The object was reset (a deploy), overloaded, or its machine went away: nothing of the turn
    // ran. The request's own log line says so, and the client is told to retry.
    throw new GatewayError("service_unavailable", "The session could not be reached just now; retry the request.", {
      code: "session_unavailable",
      retryable: true,
      headers: new Headers({ "retry-after": "1" }),
      cause,
    });
  }
  if (!options.keepLog) log.delegate();
  return response;
}

/**
 * A client that goes away while its session turn waits on a silent upstream: the runtime does
 * not cancel the object's side of the request then, so the session is told, and lets the
 * upstream go at once instead of at the idle limit. (Once output flows, the body's
 * cancellation reaches the object by itself.)
 */
function cancelOnDisconnect(context: Context<GatewayEnv>, stub: DurableObjectStub<SessionDurableObject>, requestId: string): void {
  const signal = context.req.raw.signal;
  // No execution context (a test calling the app directly): nothing outlives the request anyway.
  const waitUntil = waitUntilOf(context);
  signal?.addEventListener("abort", () => {
    const cancelling = stub.cancelTurn(requestId).catch(() => {});
    waitUntil?.(cancelling);
  }, { once: true });
}
