/**
 * The Worker side of a ChatGPT account's tokens: an isolate cache in front of the account's
 * Durable Object, so that most requests make no call to it. A token is used until
 * `refreshMarginMs` before it expires; then, or after the upstream rejected it, the object is
 * asked (one call per isolate at a time; the object itself makes the refreshes single-flight
 * across isolates).
 *
 * A disabled account (its refresh token was rejected, or its seed is missing) throws a
 * GatewayError with status 503 and code `chatgpt_account_disabled`, not retryable: account
 * selection fails over to another account, and a client whose only account is disabled sees the
 * service unavailable (not a 401, which would blame its own gateway key). The account id and the
 * reason are in the object's log line, not in the error: clients never learn account names. Transient failures of the token service or of the
 * object throw retryable `upstream_unreachable` / `upstream_error` (502).
 */
import { GatewayError } from "../../errors/gateway-error";
import { isRecord } from "../../streams/responses-event";
import { refreshMarginMs, type ChatGptAccountDurableObject, type ChatGptToken, type ChatGptTokenRequest } from "./chatgpt-account-durable-object";

export interface ChatGptCredentialsOptions {
  /** The gateway's name for the account; also the Durable Object's name. */
  accountId: string;
  /** The Worker secret holding the account's seed. */
  credentialName: string;
  tokenUrl: string;
}

export interface ChatGptBearer {
  bearer: string;
  chatgptAccountId: string;
}

export interface ChatGptCredentials {
  /** A token valid for at least five more minutes. */
  get(): Promise<ChatGptBearer>;
  /**
   * The upstream answered 401 to `bearer`: a newer token (refreshed now, or already by another
   * request). Retry the request once with it; a second 401 means the account is unusable.
   */
  rejected(bearer: string): Promise<ChatGptBearer>;
}

export const disabledAccountCode = "chatgpt_account_disabled";

interface IsolateEntry {
  token?: ChatGptToken;
}

/**
 * Per isolate, by account: the last token, shared by all the isolate's requests and objects. Only
 * the token is shared, never a call in flight: the account object's answer is I/O of the request
 * that asked, and a Durable Object awaiting another context's call may be discarded by the
 * runtime, or wait forever. Concurrent refreshes are the account object's to merge (it is one).
 */
const isolateCache = new Map<string, IsolateEntry>();

export function chatGptCredentials(
  namespace: DurableObjectNamespace<ChatGptAccountDurableObject>,
  options: ChatGptCredentialsOptions,
): ChatGptCredentials {
  const key = `${options.accountId}\n${options.credentialName}`;
  let entry = isolateCache.get(key);
  if (!entry) {
    entry = {};
    isolateCache.set(key, entry);
  }
  const cache = entry;

  async function ask(extra: Pick<ChatGptTokenRequest, "rejectedToken">): Promise<ChatGptToken> {
    const request: ChatGptTokenRequest = { ...options, ...extra };
    let answer;
    try {
      answer = await namespace.get(namespace.idFromName(options.accountId)).accessToken(request);
    } catch (error) {
      throw fromObjectError(error, options.accountId);
    }
    if (answer.kind === "unavailable") throw unavailable(answer.message, answer.retryable, options.accountId);
    if (answer.kind === "disabled") {
      cache.token = undefined;
      throw new GatewayError("upstream_error", "An upstream ChatGPT account is disabled until its operator re-seeds it.", {
        status: 503,
        code: disabledAccountCode,
        retryable: false,
      });
    }
    const token: ChatGptToken = { kind: "token", accessToken: answer.accessToken, chatgptAccountId: answer.chatgptAccountId, expiresAt: answer.expiresAt };
    if (!cache.token || token.expiresAt >= cache.token.expiresAt) cache.token = token;
    return token;
  }

  return {
    async get() {
      const cached = cache.token;
      if (cached && usable(cached)) return bearerOf(cached);
      return bearerOf(await ask({}));
    },

    async rejected(bearer) {
      const cached = cache.token;
      if (cached && cached.accessToken !== bearer && usable(cached)) return bearerOf(cached);
      if (cached?.accessToken === bearer) cache.token = undefined;
      return bearerOf(await ask({ rejectedToken: bearer }));
    },
  };
}

function usable(token: ChatGptToken): boolean {
  return token.expiresAt - Date.now() > refreshMarginMs;
}

function bearerOf(token: ChatGptToken): ChatGptBearer {
  return { bearer: token.accessToken, chatgptAccountId: token.chatgptAccountId };
}

/**
 * What the object throws (a transient token-service failure, or the runtime's own error: object
 * overloaded, reset) arrives through RPC as a plain Error whose message starts with the class
 * name; the GatewayError's kind and status do not survive. Both are worth another attempt.
 */
function fromObjectError(error: unknown, accountId: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const retryable = isRecord(error) && typeof error.retryable === "boolean" ? error.retryable : true;
  const message = error instanceof Error && error.message ? error.message.replace(/^GatewayError: /, "") : "unknown error";
  return unavailable(message, retryable, accountId, error);
}

function unavailable(message: string, retryable: boolean, accountId: string, cause?: unknown): GatewayError {
  // Clients never learn account names or what the token service said; the operator's log does.
  return new GatewayError("upstream_unreachable", "An upstream ChatGPT account has no usable token right now.", {
    retryable,
    cause,
    detail: `ChatGPT account '${accountId}': ${message}`,
  });
}
