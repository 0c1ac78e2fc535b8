/**
 * One Durable Object per ChatGPT account, the only holder of its OAuth tokens. Refresh tokens
 * are single-use: two refreshes racing with the same one end in `refresh_token_reused` and a
 * dead account (docs/protocol.md §4), so every refresh of an account happens here, one at a time, and
 * every caller that needs a new token meanwhile shares the one in flight.
 *
 * Storage is the truth: the seed's refresh token is spent by the first refresh, so the rotated
 * tokens must outlive an eviction or a deploy. The seed secret is read on every call but only
 * applied when its fingerprint changes (an operator re-seeded the account), which also lifts a
 * `disabled` state. A refresh token the auth service rejects disables the account until then;
 * it is never retried, since retrying a dead token cannot succeed. A missing or broken seed
 * secret only matters before the first seed: stored tokens keep working without it.
 *
 * Tokens never leave through logs or errors; they leave only as `accessToken` answers.
 */
import { DurableObject } from "cloudflare:workers";
import { GatewayError } from "../../errors/gateway-error";
import { refreshChatGptTokens, type RefreshOutcome } from "./chatgpt-oauth-api";
import { parseChatGptSeed, type ChatGptSeed } from "./chatgpt-seed";

export interface ChatGptTokenRequest {
  /** The gateway's name for the account (logs, messages); the object is `idFromName(accountId)`. */
  accountId: string;
  /** The Worker secret holding the seed. */
  credentialName: string;
  tokenUrl: string;
  /** Refresh now even if the stored token looks good (joins a refresh already in flight). */
  forceRefresh?: boolean;
  /** The upstream answered 401 to this token: refresh unless the stored token is already another. */
  rejectedToken?: string;
}

export interface ChatGptToken {
  kind: "token";
  accessToken: string;
  chatgptAccountId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface ChatGptDisabled {
  kind: "disabled";
  reason: string;
}

/** No token right now (the token service failed): the caller's request fails, retryably. */
export interface ChatGptUnavailable {
  kind: "unavailable";
  message: string;
  retryable: boolean;
}

export interface ChatGptAccountStatus {
  expiresAt?: number;
  disabled?: string;
  lastRefreshAt?: number;
}

interface StoredTokens {
  seedFingerprint: string;
  accessToken: string;
  refreshToken: string;
  chatgptAccountId: string;
  expiresAt: number;
  lastRefreshAt?: number;
  /** Why the account is disabled; set when its refresh token was rejected. */
  disabled?: string;
}

/** A token is handed out only while it has more than this left; later, it is refreshed first. */
export const refreshMarginMs = 5 * 60_000;

/** When a refresh fails transiently, a stored token with at least this left is still handed out… */
const transientGraceMs = 60_000;

/** …and the next early refresh waits this long, so that an outage is not hit on every request. */
const transientBackoffMs = 10_000;

const storageKey = "tokens";

export class ChatGptAccountDurableObject extends DurableObject<Record<string, unknown>> {
  #refreshing: Promise<StoredTokens | ChatGptDisabled> | undefined;
  /** Until when early refreshes wait after a transient failure (memory only: a restart retries). */
  #backoffUntil = 0;
  /** The last seed read, parsed: hashing the same secret on every call is wasted work. */
  #lastSeed: { name: string; text: unknown; seed: ChatGptSeed | string } | undefined;

  async accessToken(request: ChatGptTokenRequest): Promise<ChatGptToken | ChatGptDisabled | ChatGptUnavailable> {
    const seed = await this.#readSeed(request.credentialName);
    let stored = this.#load();
    // A new seed waits for a refresh in flight to land, so that the refresh cannot overwrite it.
    if (typeof seed !== "string" && stored?.seedFingerprint !== seed.fingerprint && !this.#refreshing) {
      stored = this.#applySeed(seed, request);
    }
    if (!stored) return { kind: "disabled", reason: typeof seed === "string" ? seed : "it has no tokens" };
    if (stored.disabled) return { kind: "disabled", reason: stored.disabled };

    if (!this.#refreshing) {
      const rejected = request.rejectedToken !== undefined && request.rejectedToken === stored.accessToken;
      const remaining = stored.expiresAt - Date.now();
      const early = remaining > refreshMarginMs || (remaining > transientGraceMs && Date.now() < this.#backoffUntil);
      if (!rejected && !request.forceRefresh && early) return tokenOf(stored);
      this.#refreshing = this.#refresh(request, stored).finally(() => {
        this.#refreshing = undefined;
      });
    }
    // Every caller meanwhile joins the refresh in flight: its token is newer than anything stored.
    try {
      const result = await this.#refreshing;
      return "kind" in result ? result : tokenOf(result);
    } catch (error) {
      const stillGood = stored.accessToken !== request.rejectedToken && stored.expiresAt - Date.now() > transientGraceMs;
      if (error instanceof GatewayError && error.retryable && stillGood) return tokenOf(stored);
      // Returned, not thrown: an error thrown across RPC is logged by the runtime as an
      // "uncaught exception" of this object, though the caller handles it.
      if (error instanceof GatewayError) return { kind: "unavailable", message: error.message, retryable: error.retryable };
      throw error;
    }
  }

  async status(): Promise<ChatGptAccountStatus> {
    const stored = this.#load();
    if (!stored) return {};
    const status: ChatGptAccountStatus = { expiresAt: stored.expiresAt };
    if (stored.disabled !== undefined) status.disabled = stored.disabled;
    if (stored.lastRefreshAt !== undefined) status.lastRefreshAt = stored.lastRefreshAt;
    return status;
  }

  /** Lifts `disabled` and keeps the stored tokens: the next call tries their refresh token again. */
  async clearDisabled(): Promise<void> {
    const stored = this.#load();
    if (!stored?.disabled) return;
    const { disabled: _cleared, ...rest } = stored;
    this.ctx.storage.kv.put(storageKey, rest);
  }

  async #refresh(request: ChatGptTokenRequest, stored: StoredTokens): Promise<StoredTokens | ChatGptDisabled> {
    let outcome: RefreshOutcome;
    try {
      outcome = await refreshChatGptTokens(request.tokenUrl, stored.refreshToken);
    } catch (error) {
      this.#backoffUntil = Date.now() + transientBackoffMs;
      const message = error instanceof Error ? error.message : "unknown error";
      log("warn", `ChatGPT account '${request.accountId}' token refresh failed, will retry: ${message}`, request);
      throw error;
    }
    if (outcome.kind === "rejected") {
      const reason = `refresh token rejected (${outcome.code}); re-seed its secret '${request.credentialName}'`;
      this.ctx.storage.kv.put(storageKey, { ...stored, disabled: reason });
      log("error", `ChatGPT account '${request.accountId}' disabled: refresh token rejected (${outcome.code}); re-seed its secret`, request);
      return { kind: "disabled", reason };
    }
    const next: StoredTokens = {
      seedFingerprint: stored.seedFingerprint,
      accessToken: outcome.accessToken,
      // Without a new one, the old refresh token stays valid (RFC 6749 §6).
      refreshToken: outcome.refreshToken ?? stored.refreshToken,
      // Kept from the seed, as Codex keeps `tokens.account_id` across refreshes.
      chatgptAccountId: stored.chatgptAccountId,
      expiresAt: outcome.expiresAt,
      lastRefreshAt: Date.now(),
    };
    this.ctx.storage.kv.put(storageKey, next);
    log("info", `ChatGPT account '${request.accountId}' token refreshed`, request, { expires_at: new Date(next.expiresAt).toISOString() });
    return next;
  }

  async #readSeed(name: string): Promise<ChatGptSeed | string> {
    const text = this.env[name];
    const last = this.#lastSeed;
    if (last && last.name === name && last.text === text) return last.seed;
    const seed = await parseChatGptSeed(name, text);
    this.#lastSeed = { name, text, seed };
    return seed;
  }

  #applySeed(seed: ChatGptSeed, request: ChatGptTokenRequest): StoredTokens {
    const { fingerprint, ...tokens } = seed;
    const record: StoredTokens = { seedFingerprint: fingerprint, ...tokens };
    this.ctx.storage.kv.put(storageKey, record);
    log("info", `ChatGPT account '${request.accountId}' seeded from its secret`, request);
    return record;
  }

  #load(): StoredTokens | undefined {
    return this.ctx.storage.kv.get<StoredTokens>(storageKey);
  }
}

function tokenOf(stored: StoredTokens): ChatGptToken {
  return { kind: "token", accessToken: stored.accessToken, chatgptAccountId: stored.chatgptAccountId, expiresAt: stored.expiresAt };
}

/** One JSON log line, with the account's name and its secret's name (never a value). */
function log(level: "info" | "warn" | "error", message: string, request: ChatGptTokenRequest, extra: Record<string, string> = {}): void {
  const line = JSON.stringify({ level, message, account: request.accountId, secret: request.credentialName, ...extra });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
