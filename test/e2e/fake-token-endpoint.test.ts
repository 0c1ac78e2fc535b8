// Self-test of the fake upstream's auth service (`POST /oauth/token`) and of its bearer check
// (`requireIssuedTokens`), which the ChatGPT account tests rely on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { fakeChatGptSeed, fakeRefreshToken, startFakeUpstream } from "../support/fake-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { readFakeAccessToken } from "../support/fake-upstream/tokens.js";

const clientId = "app_EMoamEEZ73f0CkXaXp7hrann";

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream({ requireIssuedTokens: true, tokenLifetimeSeconds: 600, tokenRefreshDelayMs: 30 });
});
afterAll(() => fake.close());
afterEach(() => fake.reset());

interface TokenBody { access_token: string; refresh_token: string; id_token: string; expires_in: number; error?: unknown }

async function refresh(refreshToken: string, clientIdSent = clientId) {
  const response = await fetch(fake.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_id: clientIdSent, grant_type: "refresh_token", refresh_token: refreshToken }),
  });
  return { status: response.status, body: (await response.json()) as TokenBody };
}

function create(bearer: string, accountId?: string) {
  const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${bearer}` };
  if (accountId) headers["chatgpt-account-id"] = accountId;
  return fetch(`${fake.url}/responses`, { method: "POST", headers, body: JSON.stringify({ model: "gpt-5.5", stream: false, input: "hi" }) });
}

/** The status of a WebSocket upgrade: 101 when accepted. */
function upgrade(bearer: string, accountId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${fake.url.replace(/^http/, "ws")}/responses`, { headers: { authorization: `Bearer ${bearer}`, "chatgpt-account-id": accountId } });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    ws.once("error", reject);
  });
}

describe("POST /oauth/token", () => {
  it("answers Codex's refresh with new tokens, and rejects a spent refresh token like the real service", async () => {
    const seedRefresh = fakeRefreshToken("acct-a");
    const first = await refresh(seedRefresh);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ expires_in: 600, token_type: "Bearer" });
    const claims = readFakeAccessToken(first.body.access_token)!;
    expect(claims.accountId).toBe("acct-a");
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000 + 590);
    expect(first.body.refresh_token).not.toBe(seedRefresh);

    const reused = await refresh(seedRefresh);
    expect(reused).toMatchObject({ status: 401, body: { error: { code: "refresh_token_reused" } } });
    expect((await refresh(first.body.refresh_token)).status).toBe(200);
    expect(fake.tokenRefreshCount()).toBe(3);
  });

  it("lets only one of two racing refreshes with the same token win", async () => {
    const token = fakeRefreshToken("acct-b");
    const statuses = (await Promise.all([refresh(token), refresh(token)])).map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 401]);
  });

  it("fails on demand, checks the client id, and accepts form bodies", async () => {
    fake.failTokenRefresh("invalid_grant");
    expect(await refresh(fakeRefreshToken("acct-c"))).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    fake.failTokenRefresh("server_error");
    expect((await refresh(fakeRefreshToken("acct-c"))).status).toBe(500);
    fake.failTokenRefresh(null);
    expect((await refresh(fakeRefreshToken("acct-c"), "app_other")).status).toBe(401);
    const form = await fetch(fake.tokenUrl, {
      method: "POST",
      body: new URLSearchParams({ client_id: clientId, grant_type: "refresh_token", refresh_token: fakeRefreshToken("acct-c") }),
    });
    expect(form.status).toBe(200);
  });
});

describe("requireIssuedTokens", () => {
  it("accepts a seed's token until the first refresh, then only the latest issued one (HTTP and WebSocket)", async () => {
    const seed = JSON.parse(fakeChatGptSeed("acct-d")) as { access_token: string; refresh_token: string };
    expect((await create(seed.access_token, "acct-d")).status).toBe(200);
    expect(await upgrade(seed.access_token, "acct-d")).toBe(101);
    expect((await create(seed.access_token, "acct-other")).status).toBe(401);

    const refreshed = await refresh(seed.refresh_token);
    const stale = await create(seed.access_token, "acct-d");
    expect(stale.status).toBe(401);
    expect(await stale.json()).toEqual({ detail: "Unauthorized" });
    expect(await upgrade(seed.access_token, "acct-d")).toBe(401);
    expect((await create(refreshed.body.access_token, "acct-d")).status).toBe(200);
    expect(await upgrade(refreshed.body.access_token, "acct-d")).toBe(101);

    fake.revokeAccessTokens();
    expect((await create(refreshed.body.access_token, "acct-d")).status).toBe(401);
    const next = await refresh(refreshed.body.refresh_token);
    expect((await create(next.body.access_token, "acct-d")).status).toBe(200);
  });

  it("leaves requests without chatgpt-account-id (API-key upstreams) alone", async () => {
    expect((await create("sk-test")).status).toBe(200);
  });
});
