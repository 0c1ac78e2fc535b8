/**
 * The two claims the gateway reads from ChatGPT access and id tokens, without verifying them
 * (the tokens come from our own seed or straight from the auth service; the backend verifies).
 * Same reading as Codex CLI (codex-rs/login/src/token_data.rs: `parse_jwt_expiration`,
 * `parse_chatgpt_jwt_claims`): the payload is base64url JSON; `exp` is in seconds; the account
 * id sits under the `https://api.openai.com/auth` claim.
 */
import { isRecord } from "../../streams/responses-event";

export interface ChatGptJwtClaims {
  /** `exp` in milliseconds since the epoch. */
  expiresAt?: number;
  chatgptAccountId?: string;
}

const authClaim = "https://api.openai.com/auth";

/** Claims of a JWT; empty for anything that is not one (an opaque token). */
export function readJwtClaims(token: string): ChatGptJwtClaims {
  const payload = decodePayload(token);
  if (!payload) return {};
  const claims: ChatGptJwtClaims = {};
  if (typeof payload.exp === "number" && Number.isFinite(payload.exp)) claims.expiresAt = payload.exp * 1000;
  const auth = payload[authClaim];
  if (isRecord(auth) && typeof auth.chatgpt_account_id === "string" && auth.chatgpt_account_id) {
    claims.chatgptAccountId = auth.chatgpt_account_id;
  }
  return claims;
}

function decodePayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  const payload = parts[1];
  if (parts.length !== 3 || !payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
