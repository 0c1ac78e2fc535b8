/**
 * The seed of a ChatGPT account: a Worker secret (one per account) holding its OAuth tokens,
 * either flat or as Codex CLI's own `~/.codex/auth.json`:
 *
 *   {"access_token": "…", "refresh_token": "…", "account_id": "…", "expires_at": 1767225600}
 *   {"tokens": {"access_token", "refresh_token", "id_token", "account_id"}, "last_refresh": "…"}
 *
 * The seed is read once per change: its refresh token is single-use, so after the first refresh
 * the tokens live in the account's Durable Object, and the seed only matters again when the
 * operator replaces it (detected by its fingerprint).
 */
import * as z from "zod/mini";
import { readJwtClaims } from "./chatgpt-jwt";

export interface ChatGptSeed {
  /** Empty when the seed holds only a refresh token: refreshed before first use. */
  accessToken: string;
  refreshToken: string;
  chatgptAccountId: string;
  /** Milliseconds; 0 when unknown (refreshed before first use). */
  expiresAt: number;
  /** Identifies this seed without keeping it: SHA-256 of its refresh token, hex. */
  fingerprint: string;
}

const token = z.string().check(z.trim(), z.minLength(1));

const flatSeed = z.looseObject({
  access_token: z.nullish(token),
  refresh_token: token,
  id_token: z.nullish(token),
  account_id: z.nullish(token),
  /** Unix seconds. */
  expires_at: z.nullish(z.number()),
});

const codexAuthJson = z.looseObject({
  tokens: z.looseObject({ access_token: z.nullish(token), refresh_token: token, id_token: z.nullish(token), account_id: z.nullish(token) }),
});

/**
 * The seed in a secret's text; an error message (naming the secret, never its content) when it
 * is missing or unusable.
 */
export async function parseChatGptSeed(secretName: string, value: unknown): Promise<ChatGptSeed | string> {
  if (typeof value !== "string" || value.trim() === "") return `its seed secret '${secretName}' is not set`;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return `its seed secret '${secretName}' is not JSON`;
  }
  const codex = codexAuthJson.safeParse(json);
  const flat = codex.success ? undefined : flatSeed.safeParse(json);
  const fields = codex.success ? codex.data.tokens : flat?.success ? flat.data : undefined;
  if (!fields) return `its seed secret '${secretName}' has no refresh_token (expected {"access_token","refresh_token","account_id"} or Codex's auth.json)`;

  const accessToken = fields.access_token ?? "";
  const accessClaims = readJwtClaims(accessToken);
  const idClaims = fields.id_token ? readJwtClaims(fields.id_token) : {};
  const chatgptAccountId = fields.account_id ?? accessClaims.chatgptAccountId ?? idClaims.chatgptAccountId;
  if (!chatgptAccountId) return `its seed secret '${secretName}' has no account_id, and its tokens do not carry one`;

  // The earlier of the operator's `expires_at` and the token's own `exp` (what Codex reads).
  const explicit = flat?.success && typeof flat.data.expires_at === "number" ? flat.data.expires_at * 1000 : undefined;
  const known = [explicit, accessClaims.expiresAt].filter((value): value is number => value !== undefined);
  const expiresAt = accessToken && known.length > 0 ? Math.min(...known) : 0;

  return { accessToken, refreshToken: fields.refresh_token, chatgptAccountId, expiresAt, fingerprint: await sha256Hex(fields.refresh_token) };
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
