// ChatGPT account tokens inside workerd: the account's Durable Object (seed, refresh, single
// flight, disabling, persistence across a restart) and the Worker-side isolate cache in front of
// it. The token endpoint is a stub of `fetch` that behaves like auth.openai.com: Codex's refresh
// request in, rotated single-use refresh tokens out.
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error";
import type { ChatGptAccountDurableObject, ChatGptTokenRequest } from "../../src/upstream/chatgpt/chatgpt-account-durable-object";
import { codexClientId } from "../../src/upstream/chatgpt/chatgpt-oauth-api";
import { chatGptCredentials } from "../../src/upstream/chatgpt/chatgpt-credentials";
import { fakeAccessToken, fakeIdToken, fakeRefreshToken } from "../support/fake-upstream/tokens.js";

const bindings = env as unknown as Record<string, string> & { CHATGPT_ACCOUNTS: DurableObjectNamespace<ChatGptAccountDurableObject> };
const namespace = bindings.CHATGPT_ACCOUNTS;
const tokenUrl = "https://auth.test/oauth/token";

interface SeedFields { access_token: string; refresh_token: string; account_id: string }
const seedOf = (name: string) => JSON.parse(bindings[name] ?? "null") as SeedFields;

/** The stubbed auth service: counts refreshes, spends refresh tokens, can be told to fail. */
interface TokenService {
  calls: { url: string; contentType: string | null; body: Record<string, unknown> }[];
  failure: { status: number; body: unknown } | "network" | null;
  delayMs: number;
  issued: string[];
}
let service: TokenService;

function stubTokenService(): void {
  service = { calls: [], failure: null, delayMs: 0, issued: [] };
  const spent = new Set<string>();
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const body = (await request.json()) as Record<string, unknown>;
    service.calls.push({ url: request.url, contentType: request.headers.get("content-type"), body });
    if (service.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, service.delayMs));
    if (service.failure === "network") throw new TypeError("Network connection lost.");
    if (service.failure) return Response.json(service.failure.body, { status: service.failure.status });
    const refreshToken = String(body.refresh_token);
    if (spent.has(refreshToken)) {
      return Response.json({ error: { message: "Your refresh token has already been used to generate a new access token.", type: "invalid_request_error", param: null, code: "refresh_token_reused" } }, { status: 401 });
    }
    spent.add(refreshToken);
    const accessToken = fakeAccessToken(Math.floor(Date.now() / 1000) + 3600, "chatgpt-test-account");
    service.issued.push(accessToken);
    return Response.json({ access_token: accessToken, refresh_token: fakeRefreshToken("chatgpt-test-account"), id_token: fakeIdToken("chatgpt-test-account"), expires_in: 3600 });
  });
}

beforeEach(stubTokenService);
afterEach(() => {
  vi.restoreAllMocks();
});

let accountNumber = 0;
/** A fresh account (its own Durable Object) seeded from `credentialName`. */
function account(credentialName: string) {
  accountNumber += 1;
  const accountId = `acct-${accountNumber}`;
  // A new stub per call, as the Worker makes one per request (a stub breaks with its object's restart).
  const stub = () => namespace.get(namespace.idFromName(accountId));
  const accessToken = (extra: Partial<ChatGptTokenRequest> = {}) => stub().accessToken({ accountId, credentialName, tokenUrl, ...extra });
  return { accountId, stub, accessToken };
}

/** The error an RPC call rejects with (awaited here, so that it is never reported as unhandled). */
const rejection = (call: Promise<unknown>): Promise<unknown> => call.then(() => undefined, (error: unknown) => error);

async function tokenOf(answer: Promise<unknown>) {
  const result = (await answer) as { kind: string; accessToken?: string };
  expect(result.kind).toBe("token");
  return result as { kind: "token"; accessToken: string; chatgptAccountId: string; expiresAt: number };
}

describe("the ChatGPT account object", () => {
  it("returns a valid seeded token without refreshing", async () => {
    const { accessToken } = account("CHATGPT_TEST_SEED");
    const seed = seedOf("CHATGPT_TEST_SEED");
    const first = await tokenOf(accessToken());
    expect(first).toMatchObject({ accessToken: seed.access_token, chatgptAccountId: "chatgpt-test-account" });
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect((await tokenOf(accessToken())).accessToken).toBe(seed.access_token);
    expect(service.calls).toHaveLength(0);
  });

  it("refreshes an expiring token once, the way Codex does", async () => {
    const { accessToken, stub } = account("CHATGPT_TEST_SEED_EXPIRING");
    const refreshed = await tokenOf(accessToken());
    expect(service.calls).toEqual([
      { url: tokenUrl, contentType: "application/json", body: { client_id: codexClientId, grant_type: "refresh_token", refresh_token: "rt-seed-expiring" } },
    ]);
    expect(refreshed.accessToken).toBe(service.issued[0]);
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect((await tokenOf(accessToken())).accessToken).toBe(refreshed.accessToken);
    expect(service.calls).toHaveLength(1);
    const status = await stub().status();
    expect(status).toMatchObject({ expiresAt: refreshed.expiresAt });
    expect(status.lastRefreshAt).toBeGreaterThan(Date.now() - 10_000);
    expect(status.disabled).toBeUndefined();
  });

  it("makes one refresh for 20 concurrent callers", async () => {
    service.delayMs = 50;
    const { accessToken } = account("CHATGPT_TEST_SEED_EXPIRING");
    const answers = await Promise.all(Array.from({ length: 20 }, () => tokenOf(accessToken())));
    expect(service.calls).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.accessToken))).toEqual(new Set([service.issued[0]]));
  });

  it("refreshes once for a rejected token, and hands the newer token to later rejections of it", async () => {
    service.delayMs = 20;
    const { accessToken } = account("CHATGPT_TEST_SEED");
    const seeded = await tokenOf(accessToken());
    const replaced = await Promise.all(Array.from({ length: 5 }, () => tokenOf(accessToken({ rejectedToken: seeded.accessToken }))));
    expect(service.calls).toHaveLength(1);
    expect(replaced.every((answer) => answer.accessToken === service.issued[0])).toBe(true);
    // A 401 that raced the refresh, reported late: the newer token, no second refresh.
    expect((await tokenOf(accessToken({ rejectedToken: seeded.accessToken }))).accessToken).toBe(service.issued[0]);
    expect(service.calls).toHaveLength(1);
    // The new token rejected too: another refresh, with the rotated refresh token.
    await tokenOf(accessToken({ rejectedToken: service.issued[0] }));
    expect(service.calls).toHaveLength(2);
    expect(service.calls[1]!.body.refresh_token).not.toBe("rt-seed-fresh");
  });

  it.each([
    ["invalid_grant", 400, { error: "invalid_grant", error_description: "Invalid refresh token" }],
    ["refresh_token_reused", 401, { error: { message: "Your refresh token has already been used", type: "invalid_request_error", code: "refresh_token_reused" } }],
  ])("disables the account on %s, logs it once, and never retries", async (code, status, body) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    service.failure = { status, body };
    const { accountId, accessToken, stub } = account("CHATGPT_TEST_SEED_EXPIRING");
    const answer = await accessToken();
    expect(answer).toEqual({ kind: "disabled", reason: `refresh token rejected (${code}); re-seed its secret 'CHATGPT_TEST_SEED_EXPIRING'` });

    service.failure = null;
    expect((await accessToken()).kind).toBe("disabled");
    expect((await accessToken({ forceRefresh: true })).kind).toBe("disabled");
    expect(service.calls).toHaveLength(1);
    expect((await stub().status()).disabled).toContain(code);

    const lines = errors.mock.calls.map((call) => String(call[0]));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "error",
      message: `ChatGPT account '${accountId}' disabled: refresh token rejected (${code}); re-seed its secret`,
      secret: "CHATGPT_TEST_SEED_EXPIRING",
    });
    const seed = seedOf("CHATGPT_TEST_SEED_EXPIRING");
    expect(lines[0]).not.toContain(seed.refresh_token);
    expect(lines[0]).not.toContain(seed.access_token);
  });

  it("is enabled again by a new seed (a changed secret), or by clearDisabled", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    service.failure = { status: 400, body: { error: "invalid_grant" } };
    const { accountId, stub } = account("CHATGPT_TEST_SEED_EXPIRING");
    const call = (credentialName: string) => stub().accessToken({ accountId, credentialName, tokenUrl });
    expect((await call("CHATGPT_TEST_SEED_EXPIRING")).kind).toBe("disabled");

    // The operator replaced the secret: here, the same account read from another binding.
    const rotated = await tokenOf(call("CHATGPT_TEST_SEED_ROTATED"));
    expect(rotated.accessToken).toBe(seedOf("CHATGPT_TEST_SEED_ROTATED").access_token);
    expect((await stub().status()).disabled).toBeUndefined();

    // The same seed again is not a new seed: the stored (possibly rotated) tokens stay.
    await tokenOf(call("CHATGPT_TEST_SEED_ROTATED"));
    expect(service.calls).toHaveLength(1);

    const other = account("CHATGPT_TEST_SEED_EXPIRING");
    expect((await other.accessToken()).kind).toBe("disabled");
    await other.stub().clearDisabled();
    service.failure = null;
    await tokenOf(other.accessToken());
    expect(service.calls.at(-1)!.body.refresh_token).toBe("rt-seed-expiring");
  });

  it("keeps refreshed tokens across a restart (the seed's refresh token is spent)", async () => {
    const { accessToken, stub } = account("CHATGPT_TEST_SEED_EXPIRING");
    const refreshed = await tokenOf(accessToken());
    const rotatedRefreshToken = (await runInDurableObject(stub(), (_instance, state) => state.storage.kv.get<{ refreshToken: string }>("tokens")))!.refreshToken;
    expect(rotatedRefreshToken).not.toBe("rt-seed-expiring");

    await runInDurableObject(stub(), (_instance, state) => {
      state.abort("simulated restart");
    }).catch(() => {});

    expect((await tokenOf(accessToken())).accessToken).toBe(refreshed.accessToken);
    expect(service.calls).toHaveLength(1);
    await tokenOf(accessToken({ rejectedToken: refreshed.accessToken }));
    expect(service.calls.map((call) => call.body.refresh_token)).toEqual(["rt-seed-expiring", rotatedRefreshToken]);
  });

  it("treats network errors and 5xx as transient: an error (or a still-good token), never disabled", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { accessToken, stub } = account("CHATGPT_TEST_SEED_EXPIRING");
    const seed = seedOf("CHATGPT_TEST_SEED_EXPIRING");
    // Two minutes before the seed's token expires, however long the suite ran before this test.
    const expiresAt = (JSON.parse(atob(seed.access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp: number }).exp * 1000;
    vi.spyOn(Date, "now").mockReturnValue(expiresAt - 120_000);
    service.failure = { status: 503, body: { error: { message: "unavailable", type: "server_error" } } };
    // Two minutes left: better the stored token than an error, and no new attempt for a while.
    expect((await tokenOf(accessToken())).accessToken).toBe(seed.access_token);
    expect((await tokenOf(accessToken())).accessToken).toBe(seed.access_token);
    expect(service.calls).toHaveLength(1);
    // That token was rejected upstream: nothing to fall back to. Answered, not thrown.
    expect(await accessToken({ rejectedToken: seed.access_token })).toEqual({ kind: "unavailable", message: expect.stringMatching(/token service answered HTTP 503/), retryable: true });
    service.failure = "network";
    expect(await accessToken({ rejectedToken: seed.access_token })).toEqual({ kind: "unavailable", message: expect.stringMatching(/could not be reached/), retryable: true });
    expect((await stub().status()).disabled).toBeUndefined();

    service.failure = null;
    const refreshed = await tokenOf(accessToken({ rejectedToken: seed.access_token }));
    expect(refreshed.accessToken).toBe(service.issued[0]);
    expect(service.calls.map((call) => call.body.refresh_token)).toEqual(Array(4).fill("rt-seed-expiring"));
  });

  it("accepts Codex's auth.json as a seed, and names a missing or broken secret", async () => {
    const codex = await tokenOf(account("CHATGPT_TEST_SEED_CODEX").accessToken());
    expect(codex.chatgptAccountId).toBe("chatgpt-codex-account");
    expect(service.calls[0]!.body.refresh_token).toBe("rt-seed-codex");

    expect(await account("CHATGPT_TEST_SEED_MISSING").accessToken()).toEqual({ kind: "disabled", reason: "its seed secret 'CHATGPT_TEST_SEED_MISSING' is not set" });
    expect(await account("CHATGPT_TEST_SEED_BROKEN").accessToken()).toEqual({ kind: "disabled", reason: "its seed secret 'CHATGPT_TEST_SEED_BROKEN' is not JSON" });
  });
});

describe("chatGptCredentials (the Worker side)", () => {
  /** The namespace, counting the calls that reach the object. */
  function countingNamespace() {
    const counter = { calls: 0 };
    const counted = {
      idFromName: (name: string) => namespace.idFromName(name),
      get: (id: DurableObjectId) => {
        counter.calls += 1;
        return namespace.get(id);
      },
    } as unknown as DurableObjectNamespace<ChatGptAccountDurableObject>;
    return { counted, counter };
  }

  it("caches the token in the isolate, and replaces a rejected one (one refresh, however many ask)", async () => {
    const { counted, counter } = countingNamespace();
    const credentials = chatGptCredentials(counted, { accountId: "worker-acct-1", credentialName: "CHATGPT_TEST_SEED", tokenUrl });
    // Callers at once each ask the account object (no call in flight is shared across contexts);
    // afterwards the cached token serves without a call.
    const [first, second] = await Promise.all([credentials.get(), credentials.get()]);
    expect(first).toEqual({ bearer: seedOf("CHATGPT_TEST_SEED").access_token, chatgptAccountId: "chatgpt-test-account" });
    expect(second).toEqual(first);
    expect(counter.calls).toBe(2);
    await credentials.get();
    expect(counter.calls).toBe(2);

    // Two rejections at once: the account object merges them into one refresh.
    const [replaced, again] = await Promise.all([credentials.rejected(first!.bearer), credentials.rejected(first!.bearer)]);
    expect(replaced.bearer).toBe(service.issued[0]);
    expect(again).toEqual(replaced);
    expect(service.calls).toHaveLength(1);
    expect(counter.calls).toBe(4);
    // Another request's late 401 on the old token: the cached newer token, no call.
    expect(await credentials.rejected(first!.bearer)).toEqual(replaced);
    expect(await credentials.get()).toEqual(replaced);
    expect(counter.calls).toBe(4);
  });

  it("throws a non-retryable 401 for a disabled account, and a retryable error for a transient failure", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    service.failure = { status: 400, body: { error: "invalid_grant" } };
    const disabled = chatGptCredentials(namespace, { accountId: "worker-acct-2", credentialName: "CHATGPT_TEST_SEED_EXPIRING", tokenUrl });
    const error = await rejection(disabled.get());
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ kind: "upstream_error", status: 503, code: "chatgpt_account_disabled", retryable: false });
    expect((error as Error).message).not.toContain("worker-acct-2");

    service.failure = { status: 502, body: "bad gateway" };
    const transient = chatGptCredentials(namespace, { accountId: "worker-acct-3", credentialName: "CHATGPT_TEST_SEED", tokenUrl });
    const seeded = await transient.get();
    const failure = await rejection(transient.rejected(seeded.bearer));
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure).toMatchObject({ kind: "upstream_unreachable", retryable: true, status: 502 });
    // The client hears no account name and nothing the token service said; the operator's log does.
    expect((failure as Error).message).toBe("An upstream ChatGPT account has no usable token right now.");
    expect((failure as GatewayError).detail).toBe("ChatGPT account 'worker-acct-3': The ChatGPT token service answered HTTP 502.");
    expect(JSON.stringify(failure)).not.toContain(seeded.bearer);
  });
});
