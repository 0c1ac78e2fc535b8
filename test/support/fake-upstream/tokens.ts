// Fake ChatGPT OAuth tokens: unsigned JWTs with the claims Codex and the gateway read (`exp`,
// `https://api.openai.com/auth.chatgpt_account_id`), and refresh tokens that name their account.
// Runtime-neutral (btoa, TextEncoder): used by the Node fake and inside workerd tests alike.

const authClaim = "https://api.openai.com/auth";
const refreshPrefix = "rt_fake.";
let counter = 0;

function base64Url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (character) => character.charCodeAt(0)));
}

function jwt(claims: Record<string, unknown>): string {
  return `${base64Url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64Url(JSON.stringify(claims))}.fake-signature`;
}

function unique(): string {
  counter += 1;
  return `${Date.now().toString(36)}${counter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** An access token (JWT) for `accountId` expiring at `expSeconds` (Unix seconds). Unique per call. */
export function fakeAccessToken(expSeconds: number, accountId: string): string {
  return jwt({
    exp: expSeconds,
    iat: Math.floor(Date.now() / 1000),
    jti: unique(),
    [authClaim]: { chatgpt_account_id: accountId, chatgpt_plan_type: "plus", chatgpt_user_id: "user-fake" },
  });
}

/** An id token (JWT) with the account and plan claims Codex reads from it. */
export function fakeIdToken(accountId: string, expSeconds = Math.floor(Date.now() / 1000) + 3600): string {
  return jwt({ exp: expSeconds, email: "fake@example.com", [authClaim]: { chatgpt_account_id: accountId, chatgpt_plan_type: "plus" } });
}

/** A refresh token the fake token endpoint maps back to `accountId`. Unique per call. */
export function fakeRefreshToken(accountId: string): string {
  return `${refreshPrefix}${base64Url(accountId)}.${unique()}`;
}

/** The account a fake refresh token belongs to; undefined for any other token. */
export function accountOfRefreshToken(token: string): string | undefined {
  if (!token.startsWith(refreshPrefix)) return undefined;
  const encoded = token.slice(refreshPrefix.length).split(".")[0];
  try {
    return encoded ? fromBase64Url(encoded) : undefined;
  } catch {
    return undefined;
  }
}

/** The claims of a fake access token; undefined if it is not one. */
export function readFakeAccessToken(token: string): { exp: number; accountId: string } | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(fromBase64Url(payload)) as { exp?: unknown; [authClaim]?: { chatgpt_account_id?: unknown } };
    const accountId = claims[authClaim]?.chatgpt_account_id;
    if (typeof claims.exp !== "number" || typeof accountId !== "string") return undefined;
    return { exp: claims.exp, accountId };
  } catch {
    return undefined;
  }
}

export interface FakeSeedOptions {
  /** Access token expiry, Unix seconds; default one hour from now. */
  expSeconds?: number;
  refreshToken?: string;
  /** Codex's `auth.json` shape instead of the flat one. */
  codexAuthJson?: boolean;
}

/** The JSON text of a seed secret for a ChatGPT account (what an operator stores). */
export function fakeChatGptSeed(accountId: string, options: FakeSeedOptions = {}): string {
  const accessToken = fakeAccessToken(options.expSeconds ?? Math.floor(Date.now() / 1000) + 3600, accountId);
  const refreshToken = options.refreshToken ?? fakeRefreshToken(accountId);
  if (options.codexAuthJson) {
    return JSON.stringify({
      OPENAI_API_KEY: null,
      tokens: { id_token: fakeIdToken(accountId), access_token: accessToken, refresh_token: refreshToken, account_id: accountId },
      last_refresh: new Date().toISOString(),
    });
  }
  return JSON.stringify({ access_token: accessToken, refresh_token: refreshToken, account_id: accountId });
}
