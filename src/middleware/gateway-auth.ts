/**
 * Clients present a gateway key as `Authorization: Bearer <key>` (OpenAI SDKs, Codex) or
 * `x-api-key: <key>` (Anthropic SDKs, Claude Code). Keys are compared as SHA-256 digests in
 * constant time. The key is never forwarded: upstream headers are built from an allowlist.
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../errors/gateway-error";
import type { GatewayEnv } from "../gateway-env";

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
    const keys = context.get("configuration").gatewayKeys;
    if (keys.length === 0) {
      context.set("gatewayKeyId", "open");
      return next();
    }
    const presented = presentedKey(context.req.raw.headers);
    if (!presented) {
      throw new GatewayError("authentication", "Missing gateway key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
    }
    const presentedDigest = await digest(presented);
    for (const key of keys) {
      if (crypto.subtle.timingSafeEqual(presentedDigest, await cachedDigest(key))) {
        context.set("gatewayKeyId", hex(presentedDigest).slice(0, 32));
        return next();
      }
    }
    throw new GatewayError("authentication", "Invalid gateway key.");
  };
}

/** Two keys compared as SHA-256 digests in constant time. */
export async function keysMatch(presented: string, expected: string): Promise<boolean> {
  const [actual, wanted] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(actual, wanted);
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
