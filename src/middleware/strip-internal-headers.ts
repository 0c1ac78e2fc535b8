/**
 * The gateway's own headers (`x-turnpike-*`) pass between its parts — the Worker tells a session
 * object who writes the log line, which request it is — so a client must never be able to set
 * them: `x-turnpike-log-owner: caller` would silence its own log line. They are removed from
 * every client request before anything reads it.
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../gateway-env";
import { internalHeaderPrefix } from "../session/session-durable-object";

export function stripInternalHeaders(): MiddlewareHandler<GatewayEnv> {
  return async function stripInternalHeadersMiddleware(context, next) {
    const raw = context.req.raw;
    let headers: Headers | undefined;
    for (const name of raw.headers.keys()) {
      if (!name.startsWith(internalHeaderPrefix)) continue;
      headers ??= new Headers(raw.headers);
      headers.delete(name);
    }
    // Incoming headers are immutable: a copy of the request, only when there was one to drop.
    if (headers) context.req.raw = new Request(raw, { headers });
    await next();
  };
}
