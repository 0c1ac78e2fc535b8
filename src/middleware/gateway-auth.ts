/**
 * Clients present a gateway key as `Authorization: Bearer <key>` (OpenAI SDKs, Codex) or
 * `x-api-key: <key>` (Anthropic SDKs, Claude Code). A key is one of `GATEWAY_KEYS` (compared as
 * SHA-256 digests in constant time) or a team key kept in D1 (`tpk_…`, asked of its gate on every
 * request: revocation and limits, see src/team/). Without any, the gateway is open only when
 * `GATEWAY_KEYS` is unset, `GATEWAY_OPEN` is not `off` and no team key was ever created: a team
 * that made keys is not left open by a forgotten setting. The key is never forwarded: upstream
 * headers are built from an allowlist.
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../errors/gateway-error";
import type { GatewayEnv } from "../gateway-env";
import { accountRequest, admitTeamKey, RefusedKey, teamServices, type Caller } from "../team/caller";
import { keyPrefix, teamKeysExist } from "../team/gateway-keys";

const encoder = new TextEncoder();
const digestCache = new Map<string, Promise<ArrayBuffer>>();

function digest(key: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(key));
}

function cachedDigest(key: string): Promise<ArrayBuffer> {
  let entry = digestCache.get(key);
  if (!entry) {
    entry = digest(key);
    digestCache.set(key, entry);
  }
  return entry;
}

export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  return bearer || headers.get("x-api-key")?.trim() || undefined;
}

export function gatewayAuth(): MiddlewareHandler<GatewayEnv> {
  return async function gatewayAuthMiddleware(context, next) {
    const configuration = context.get("configuration");
    const request = context.req.raw;
    const presented = presentedKey(request.headers);
    const team = teamServices(context.env);
    // A request that reaches a model takes one of the key's stream places until it ends; a
    // WebSocket's upgrade takes none and is not counted: its turns are, one by one, in the session object.
    const kind = { hold: request.method === "POST", count: request.headers.get("upgrade")?.toLowerCase() !== "websocket" };
    const accounting = { services: team, prices: configuration.prices, waitUntil: waitUntilOf(context), owner: executionContextOf(context) };
    let caller: Caller | undefined;
    if (presented) caller = await staticCaller(presented, configuration.gatewayKeys);
    if (!caller && presented?.startsWith(keyPrefix) && team) {
      try {
        caller = await admitTeamKey(team, presented, kind);
      } catch (refused) {
        if (!(refused instanceof RefusedKey)) throw refused;
        // A known key refused (revoked, over a limit) still has its usage row: the operator sees the 429s.
        if (refused.keyId) accountRequest(context.get("log"), { keyId: refused.keyId, sessionScope: refused.keyId, name: "", models: null }, accounting);
        throw refused.error;
      }
    }
    if (!caller && configuration.gatewayKeys.length === 0 && configuration.gatewayOpen && !(team && (await teamKeysExist(team.db)))) {
      caller = { keyId: "open", sessionScope: "open", name: "open", models: null };
    }
    if (!caller) {
      if (!presented) throw new GatewayError("authentication", "Missing gateway key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
      throw new GatewayError("authentication", "Invalid gateway key.");
    }
    context.set("caller", caller);
    context.set("gatewayKeyId", caller.sessionScope);
    accountRequest(context.get("log"), caller, accounting);
    return next();
  };
}

async function staticCaller(presented: string, keys: string[]): Promise<Caller | undefined> {
  if (keys.length === 0) return undefined;
  const presentedDigest = await digest(presented);
  for (const key of keys) {
    if (crypto.subtle.timingSafeEqual(presentedDigest, await cachedDigest(key))) {
      // The digest's first half scopes the key's sessions (as it always has); its usage rows name a shorter part.
      const id = hex(presentedDigest);
      return { keyId: `static:${id.slice(0, 8)}`, sessionScope: id.slice(0, 32), name: "static key", models: null };
    }
  }
  return undefined;
}

/** Two keys compared as SHA-256 digests in constant time. */
export async function keysMatch(presented: string, expected: string): Promise<boolean> {
  const [actual, wanted] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(actual, wanted);
}

/** The request's execution context, when it has one. */
function executionContextOf(context: { executionCtx: ExecutionContext }): ExecutionContext | undefined {
  try {
    return context.executionCtx;
  } catch {
    return undefined;
  }
}

/** The request's `waitUntil`, when it has one (a test calling the app directly may not). */
export function waitUntilOf(context: { executionCtx: ExecutionContext }): ((promise: Promise<unknown>) => void) | undefined {
  const execution = executionContextOf(context);
  return execution ? (promise) => execution.waitUntil(promise) : undefined;
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
