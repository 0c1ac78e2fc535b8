/**
 * Which session a request belongs to. Clients name their session in a header (Codex:
 * `session-id`/`thread-id`, older versions `session_id`/`conversation_id`; Claude Code:
 * `x-claude-code-session-id`; opencode: `x-session-id`) or, failing that, in the body's
 * `prompt_cache_key`. The first
 * present, in this order, wins.
 */
import { fingerprint } from "../shared/fingerprint";

export const sessionHeaders = ["session-id", "session_id", "thread-id", "thread_id", "conversation_id", "x-claude-code-session-id", "x-session-id"] as const;

const maxSessionIdLength = 256;

export function sessionIdFromHeaders(headers: Headers): string | undefined {
  for (const name of sessionHeaders) {
    const value = headers.get(name)?.trim();
    if (value) return value.slice(0, maxSessionIdLength);
  }
  return undefined;
}

export function sessionIdFromBody(body: Record<string, unknown>): string | undefined {
  const key = body.prompt_cache_key;
  return typeof key === "string" && key.trim() ? key.trim().slice(0, maxSessionIdLength) : undefined;
}

/**
 * A session for a conversation that names none (Chat Completions clients mostly do not): its
 * model, instructions and first user message are the same on every one of its turns. Undefined
 * when there is no user message to go by. Conversations that begin alike share the session and
 * become chains of it (chain-router.ts); the gateway key is part of the object's name anyway.
 */
export function derivedSessionId(request: Record<string, unknown>): string | undefined {
  const input = Array.isArray(request.input) ? request.input : [];
  const firstUser = input.find((item) => typeof item === "object" && item !== null && (item as { role?: unknown }).role === "user");
  if (firstUser === undefined) return undefined;
  const instructions = typeof request.instructions === "string" ? request.instructions : "";
  return `derived-${fingerprint(`${String(request.model)}\n${instructions}\n${JSON.stringify(firstUser)}`)}`;
}

/**
 * The Durable Object name: a digest of the authenticating gateway key's id and the session id,
 * so that two clients with different keys never share a session, whatever ids they choose.
 */
export async function sessionObjectName(gatewayKeyId: string, sessionId: string): Promise<string> {
  const source = `${gatewayKeyId}\n${sessionId}`;
  let name = recentNames.get(source);
  if (name === undefined) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(source));
    name = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    // Every turn of a session asks again: the isolate remembers recent names (bounded).
    if (recentNames.size >= recentNamesLimit) recentNames.clear();
    recentNames.set(source, name);
  }
  return name;
}

const recentNamesLimit = 1_000;
const recentNames = new Map<string, string>();
