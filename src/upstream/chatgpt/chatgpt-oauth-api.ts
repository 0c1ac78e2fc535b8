/**
 * The token refresh Codex CLI makes (codex-rs/login/src/auth/manager.rs,
 * `request_chatgpt_token_refresh`): a JSON `POST https://auth.openai.com/oauth/token` with
 * Codex's public client id, `grant_type: "refresh_token"` and the refresh token; the answer
 * carries a new `access_token`, usually a new `refresh_token` (the old one is then spent) and an
 * `id_token`. Expiry comes from the access token's JWT `exp`, as in Codex.
 *
 * Failures are classified as Codex does: HTTP 401, or a code naming a dead refresh token
 * (`refresh_token_expired` / `_reused` / `_invalidated`, plus OAuth's generic `invalid_grant`),
 * is permanent; anything else (network, timeout, 5xx, odd bodies) is transient.
 */
import * as z from "zod/mini";
import { GatewayError } from "../../errors/gateway-error";
import { isRecord } from "../../streams/responses-event";
import { readJwtClaims } from "./chatgpt-jwt";

export const chatGptTokenUrl = "https://auth.openai.com/oauth/token";

/** Codex CLI's OAuth client; a refresh token only works with the client it was issued to. */
export const codexClientId = "app_EMoamEEZ73f0CkXaXp7hrann";

const refreshTimeoutMs = 20_000;

/** Used when a refreshed token says nothing about its lifetime: refresh again in an hour. */
const fallbackLifetimeMs = 60 * 60_000;

const permanentCodes = new Set(["invalid_grant", "refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated"]);

const refreshResponse = z.looseObject({
  access_token: z.string().check(z.minLength(1)),
  refresh_token: z.nullish(z.string().check(z.minLength(1))),
  id_token: z.nullish(z.string()),
  expires_in: z.nullish(z.number()),
});

export type RefreshOutcome =
  | { kind: "refreshed"; accessToken: string; refreshToken?: string; chatgptAccountId?: string; expiresAt: number }
  /** The refresh token is dead: only a new seed helps. `code` is the service's, or `HTTP 401`. */
  | { kind: "rejected"; code: string };

/** One refresh; throws a retryable GatewayError on transient failures. Never reveals a token. */
export async function refreshChatGptTokens(tokenUrl: string, refreshToken: string): Promise<RefreshOutcome> {
  let response: Response;
  try {
    response = await fetch(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ client_id: codexClientId, grant_type: "refresh_token", refresh_token: refreshToken }),
      signal: AbortSignal.timeout(refreshTimeoutMs),
    });
  } catch (error) {
    throw new GatewayError("upstream_unreachable", "The ChatGPT token service could not be reached.", { retryable: true, cause: error });
  }

  const text = await response.text().catch(() => "");
  const body = parseJson(text);
  if (!response.ok) {
    const code = errorCode(body);
    if (response.status === 401 || (code !== undefined && permanentCodes.has(code))) {
      return { kind: "rejected", code: code ?? `HTTP ${response.status}` };
    }
    throw new GatewayError("upstream_error", `The ChatGPT token service answered HTTP ${response.status}${code ? ` (${code})` : ""}.`, {
      status: 502,
      upstreamStatus: response.status,
      retryable: true,
    });
  }

  const parsed = refreshResponse.safeParse(body);
  if (!parsed.success) {
    throw new GatewayError("upstream_error", "The ChatGPT token service answered without an access token.", {
      upstreamStatus: response.status,
      retryable: true,
    });
  }
  const tokens = parsed.data;
  const accessClaims = readJwtClaims(tokens.access_token);
  const idClaims = tokens.id_token ? readJwtClaims(tokens.id_token) : {};
  const now = Date.now();
  const expiresAt =
    accessClaims.expiresAt ?? (typeof tokens.expires_in === "number" ? now + tokens.expires_in * 1000 : now + fallbackLifetimeMs);
  return {
    kind: "refreshed",
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? undefined,
    chatgptAccountId: accessClaims.chatgptAccountId ?? idClaims.chatgptAccountId,
    expiresAt,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `{"error": {"code"}}` (OpenAI), `{"error": "invalid_grant"}` (OAuth, RFC 6749 §5.2) or `{"code"}`. */
function errorCode(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const error = body.error;
  const code = isRecord(error) && typeof error.code === "string" ? error.code : typeof error === "string" ? error : body.code;
  return typeof code === "string" && code ? code.toLowerCase() : undefined;
}
