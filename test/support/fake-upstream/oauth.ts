// Fake OpenAI auth service: `POST /oauth/token` with Codex's refresh request
// (codex-rs/login/src/auth/manager.rs: JSON {client_id, grant_type: "refresh_token", refresh_token}),
// single-use refresh tokens, and the bearer check of the ChatGPT backend (`requireIssuedTokens`).
import { sleep } from "./stream.js";
import { accountOfRefreshToken, fakeAccessToken, fakeIdToken, fakeRefreshToken, readFakeAccessToken } from "./tokens.js";

export const codexClientId = "app_EMoamEEZ73f0CkXaXp7hrann";

/** What `failTokenRefresh` can make the endpoint answer. `server_error` is transient (HTTP 500). */
export type TokenFailure = "invalid_grant" | "refresh_token_expired" | "refresh_token_invalidated" | "server_error";

export interface TokenAuthority {
  lifetimeSeconds: number;
  delayMs: number;
  requireIssued: boolean;
  refreshCount: number;
  failure: TokenFailure | null;
  /** Refresh tokens already spent. */
  used: Set<string>;
  /** The latest access token issued, by ChatGPT account id. */
  latest: Map<string, string>;
  revoked: Set<string>;
  /** Until `revokeAccessTokens()`: a valid token the fake never issued (a seed's) is accepted. */
  acceptUnissued: boolean;
}

export function createTokenAuthority(options: { tokenLifetimeSeconds?: number; tokenRefreshDelayMs?: number; requireIssuedTokens?: boolean }): TokenAuthority {
  return {
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    delayMs: options.tokenRefreshDelayMs ?? 0,
    requireIssued: options.requireIssuedTokens ?? false,
    refreshCount: 0,
    failure: null,
    used: new Set(),
    latest: new Map(),
    revoked: new Set(),
    acceptUnissued: true,
  };
}

export function resetTokenAuthority(authority: TokenAuthority): void {
  authority.refreshCount = 0;
  authority.failure = null;
  authority.used.clear();
  authority.latest.clear();
  authority.revoked.clear();
  authority.acceptUnissued = true;
}

/** Every access token issued so far stops working; only tokens issued later are accepted. */
export function revokeAccessTokens(authority: TokenAuthority): void {
  for (const token of authority.latest.values()) authority.revoked.add(token);
  authority.latest.clear();
  authority.acceptUnissued = false;
}

export interface TokenAnswer { status: number; body: unknown }

const openAiError = (status: number, code: string, message: string): TokenAnswer => ({
  status, body: { error: { message, type: "invalid_request_error", param: null, code } },
});

/** Answers one refresh request. `body` is the parsed JSON (Codex) or form (other clients) body. */
export async function answerTokenRequest(authority: TokenAuthority, body: unknown, signal: AbortSignal): Promise<TokenAnswer> {
  authority.refreshCount += 1;
  const fields = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
  const refreshToken = fields.refresh_token;
  // Spend the token on arrival, so that two racing refreshes see what the real service does.
  const reused = typeof refreshToken === "string" && authority.used.has(refreshToken);
  if (typeof refreshToken === "string") authority.used.add(refreshToken);
  if (authority.delayMs > 0) await sleep(authority.delayMs, signal);

  if (fields.grant_type !== "refresh_token" || typeof refreshToken !== "string" || refreshToken === "") {
    return { status: 400, body: { error: "invalid_request", error_description: "grant_type=refresh_token and refresh_token are required" } };
  }
  if (fields.client_id !== codexClientId) return { status: 401, body: { error: "invalid_client", error_description: "Unknown client" } };
  switch (authority.failure) {
    case "invalid_grant":
      return { status: 400, body: { error: "invalid_grant", error_description: "Invalid refresh token" } };
    case "refresh_token_expired":
      return openAiError(401, "refresh_token_expired", "Your refresh token has expired. Please try signing in again.");
    case "refresh_token_invalidated":
      return openAiError(401, "refresh_token_invalidated", "Your refresh token has been invalidated. Please try signing in again.");
    case "server_error":
      return { status: 500, body: { error: { message: "Internal server error", type: "server_error", code: null } } };
    case null:
      break;
  }
  if (reused) {
    return openAiError(401, "refresh_token_reused",
      "Your refresh token has already been used to generate a new access token. Please try signing in again.");
  }

  const accountId = accountOfRefreshToken(refreshToken) ?? "fake-account";
  const accessToken = fakeAccessToken(Math.floor(Date.now() / 1000) + authority.lifetimeSeconds, accountId);
  authority.latest.set(accountId, accessToken);
  return {
    status: 200,
    body: {
      access_token: accessToken,
      refresh_token: fakeRefreshToken(accountId),
      id_token: fakeIdToken(accountId),
      token_type: "Bearer",
      expires_in: authority.lifetimeSeconds,
      scope: "openid profile email offline_access",
    },
  };
}

/**
 * The ChatGPT backend's check: with `requireIssuedTokens`, a request carrying `chatgpt-account-id`
 * needs that account's latest issued access token (or, before any refresh, an unexpired token
 * for that account). Requests without the header are not checked.
 */
export function bearerAccepted(authority: TokenAuthority, headers: Record<string, string>): boolean {
  const accountId = headers["chatgpt-account-id"];
  if (!authority.requireIssued || accountId === undefined) return true;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "")?.[1]?.trim();
  if (!bearer || authority.revoked.has(bearer)) return false;
  const latest = authority.latest.get(accountId);
  if (latest !== undefined) return bearer === latest;
  const claims = readFakeAccessToken(bearer);
  return authority.acceptUnissued && claims !== undefined && claims.accountId === accountId && claims.exp * 1000 > Date.now();
}

/** Form bodies (`application/x-www-form-urlencoded`) as an object; JSON bodies pass through. */
export function tokenRequestBody(body: unknown, contentType: string | undefined): unknown {
  if (typeof body !== "string" || !contentType?.includes("application/x-www-form-urlencoded")) return body;
  return Object.fromEntries(new URLSearchParams(body));
}
