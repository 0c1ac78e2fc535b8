// Several upstream accounts: model routing, failover before the first byte, cooldowns shared
// through the account-state object (and kept across restarts), session stickiness and moves,
// ChatGPT token refresh, the admin endpoint. Three fake upstreams fail in scripted ways.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import { fakeChatGptSeed, startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startGateway, type Gateway } from "../support/start-gateway";

const key = "gw-accounts-key-0123456789";
const adminKey = "admin-key-0123456789";
let a: FakeUpstream;
let b: FakeUpstream;
let c: FakeUpstream;
let gateway: Gateway;
let client: OpenAI;

function upstreams(extra: object[] = []) {
  return JSON.stringify([
    { id: "a", kind: "openai", url: a.url, credential: "KEY_A", models: ["gpt-5.5", "fast=gpt-5.5-mini"], priority: 0 },
    { id: "b", kind: "openai", url: b.url, credential: "KEY_B", models: ["gpt-5.5", "gpt-5.*"], priority: 1 },
    { id: "c", kind: "openai", url: c.url, credential: "KEY_C", models: ["gpt-5.5"], priority: 2 },
    ...extra,
  ]);
}

function variables(extra: Record<string, string> = {}) {
  return { UPSTREAMS: upstreams(), KEY_A: "sk-a-secret-00000001", KEY_B: "sk-b-secret-00000002", KEY_C: "sk-c-secret-00000003", GATEWAY_KEYS: key, ADMIN_KEY: adminKey, ...extra };
}

beforeAll(async () => {
  [a, b, c] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]);
  gateway = await startGateway(variables());
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([a?.close(), b?.close(), c?.close()]);
});
beforeEach(async () => {
  for (const upstream of [a, b, c]) upstream.reset();
  for (const id of ["a", "b", "c"]) await admin(gateway, `/admin/accounts/${id}/clear-cooldown`, "POST");
});

async function admin(target: Gateway, path: string, method = "GET") {
  const response = await fetch(`${target.url}${path}`, { method, headers: { authorization: `Bearer ${adminKey}` } });
  return { status: response.status, body: (await response.json()) as { accounts: { id: string; cooldowns: { model: string; seconds_left: number; reason: string }[] }[] } };
}

const posts = (upstream: FakeUpstream) => upstream.requests.filter((request) => request.method === "POST" || request.method === "WS");

async function stream(model: string, input = "hi") {
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of await client.responses.create({ model, input, stream: true })) events.push(event);
  return events;
}

describe("routing", () => {
  it("lists what is served; an unknown model is a 404 in the client's protocol", async () => {
    const models = (await client.models.list()).data.map((model) => model.id);
    expect(models).toEqual(expect.arrayContaining(["gpt-5.5", "fast"]));
    const unknown = await client.responses.create({ model: "gpt-9", input: "x" }).catch((error) => error);
    expect(unknown.status).toBe(404);
    expect(unknown.code).toBe("model_not_found");
    const anthropic = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-9", max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
    });
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  it("priority first; aliases become the account's model name; patterns route to who serves them", async () => {
    await stream("gpt-5.5");
    expect(posts(a)).toHaveLength(1);
    await stream("fast");
    expect(posts(a).at(-1)!.body.model).toBe("gpt-5.5-mini");
    await stream("gpt-5.4");
    expect(posts(b).at(-1)!.body.model).toBe("gpt-5.4");
    expect(posts(b).at(-1)!.headers.authorization).toBe("Bearer sk-b-secret-00000002");
  });
});

describe("failover before the first byte", () => {
  it.each([
    ["rate-limited", "rate_limited", 120],
    ["rate-limited-retry-after", "rate_limited", 30],
    ["rate-limited-resets-in", "rate_limited", 45],
    ["rate-limited-codex-header", "rate_limited", 60],
    ["server-error", "server_error", 30],
    ["close-before-output", "upstream_disconnected", 30],
    ["in-stream-error", "server_is_overloaded", 30],
  ])("%s on the first account: served by the next, first account cooled down (%s, ~%i s)", async (scenario, reason, seconds) => {
    a.script(scenario as never);
    const events = await stream("gpt-5.5", "failover");
    expect(events.at(-1)!.type).toBe("response.completed");
    expect(events.filter((event) => event.type === "response.created")).toHaveLength(1);
    expect(posts(b)).toHaveLength(1);
    const state = (await admin(gateway, "/admin/accounts")).body.accounts.find((account) => account.id === "a")!;
    const cooldown = state.cooldowns.find((entry) => entry.model === "gpt-5.5")!;
    expect(cooldown.reason).toBe(reason);
    expect(cooldown.seconds_left).toBeGreaterThan(seconds - 5);
    expect(cooldown.seconds_left).toBeLessThanOrEqual(seconds);
    // While it cools down, the account is skipped.
    await stream("gpt-5.5", "again");
    expect(posts(a)).toHaveLength(1);
    expect(posts(b)).toHaveLength(2);
  });

  it("no retry once output was forwarded: the turn ends with response.failed", async () => {
    a.script("early-close");
    const events = await stream("gpt-5.5");
    expect(events.at(-1)!.type).toBe("response.failed");
    expect(posts(b)).toHaveLength(0);
  });

  it("every account rate limited: one 429 with the soonest Retry-After, account ids only in the log", async () => {
    a.script("rate-limited");
    b.script("rate-limited-retry-after");
    c.script("rate-limited-resets-in");
    const error = await client.responses.create({ model: "gpt-5.5", input: "x" }).catch((caught) => caught);
    expect(error.status).toBe(429);
    expect(Number(error.headers.get("retry-after"))).toBeGreaterThan(25);
    expect(Number(error.headers.get("retry-after"))).toBeLessThanOrEqual(30);
    expect(JSON.stringify(error.error)).not.toMatch(/"a"|"b"|"c"|sk-/);
    // Nothing is sent upstream while all are cooling down.
    const again = await client.responses.create({ model: "gpt-5.5", input: "x" }).catch((caught) => caught);
    expect(again.status).toBe(429);
    expect(posts(a).length + posts(b).length + posts(c).length).toBe(3);
  });

  it("the admin endpoint needs ADMIN_KEY, not a gateway key, and clears cooldowns", async () => {
    a.script("server-error");
    await stream("gpt-5.5");
    const denied = await fetch(`${gateway.url}/admin/accounts`, { headers: { authorization: `Bearer ${key}` } });
    expect(denied.status).toBe(401);
    await admin(gateway, "/admin/accounts/a/clear-cooldown?model=gpt-5.5", "POST");
    await stream("gpt-5.5");
    expect(posts(a)).toHaveLength(2);
    const listing = JSON.stringify((await admin(gateway, "/admin/accounts")).body);
    expect(listing).not.toContain("sk-a-secret");
  });
});

describe("sessions stay on their account, and move when it cannot serve", () => {
  it("a moved session's next turn is a full send without the old account's encrypted reasoning", async () => {
    const sessionId = `sticky-${Date.now()}`;
    const { body: base } = capturedRequest("codex-http-turn1-request.json");
    let history: unknown[] = [...(base.input as unknown[])];
    const turn = async (next: unknown[]) => {
      history = [...history, ...next];
      const result = await postTurn(`${gateway.url}/v1/responses`, { ...base, input: history }, { authorization: `Bearer ${key}`, "session-id": sessionId });
      history = [...history, ...result.outputItems.map(reorderKeys)];
      return result;
    };
    a.script("reasoning");
    const first = await turn([]);
    expect(first.outputItems[0]).toMatchObject({ type: "reasoning", encrypted_content: expect.stringMatching(/^enc-fake-/) });
    a.script("reasoning");
    const second = await turn([userMessage("two")]);
    expect(second.headers.get("x-turnpike-turn")).toBe("delta");

    a.script("rate-limited");
    const moved = await turn([userMessage("three")]);
    expect(moved.terminalType).toBe("response.completed");
    expect(moved.headers.get("x-turnpike-full-reason")).toBe("account_moved");
    const sent = posts(b).at(-1)!;
    expect(sent.body.previous_response_id).toBeUndefined();
    const input = sent.body.input as { type?: string }[];
    expect(input.some((item) => item.type === "reasoning")).toBe(false);
    expect(input.at(-1)).toEqual(userMessage("three"));

    // It stays on its new account.
    const after = await turn([userMessage("four")]);
    expect(after.headers.get("x-turnpike-turn")).toBe("delta");
    expect(posts(b).at(-1)!.body.previous_response_id).toBeTruthy();
  });
});

describe("a WebSocket client's chain survives a move", () => {
  it("the chained request is rebuilt into a full send on the next account, invisibly", async () => {
    const { connectResponsesSocket } = await import("../support/ws-client");
    const socket = await connectResponsesSocket(`${gateway.url.replace(/^http/, "ws")}/v1/responses`, { authorization: `Bearer ${key}`, "session-id": `ws-move-${Date.now()}` });
    try {
      a.script("reasoning");
      const first = await socket.create({ model: "gpt-5.5", input: [userMessage("one")] });
      const firstId = (first.at(-1)!.response as { id: string }).id;
      a.script("server-error");
      const second = await socket.create({ model: "gpt-5.5", previous_response_id: firstId, input: [userMessage("two")] });
      expect(second.at(-1)!.type).toBe("response.completed");
      const sent = posts(b).at(-1)!;
      expect(sent.body.previous_response_id).toBeUndefined();
      const input = sent.body.input as { type?: string }[];
      expect(input[0]).toEqual(userMessage("one"));
      expect(input.at(-1)).toEqual(userMessage("two"));
      expect(input.some((item) => item.type === "reasoning")).toBe(false);
    } finally {
      await socket.close();
    }
  });
});

describe("ChatGPT accounts", () => {
  it("concurrent requests on an expiring token cause exactly one refresh", async () => {
    const chatgpt = await startFakeUpstream({ requireIssuedTokens: true, tokenRefreshDelayMs: 300, pathPrefix: "/backend-api/codex" });
    const seed = fakeChatGptSeed("acct-1", { expSeconds: Math.floor(Date.now() / 1000) + 60 });
    const local = await startGateway({
      UPSTREAMS: JSON.stringify([{ id: "plus", kind: "chatgpt", url: chatgpt.url, credential: "CHATGPT_PLUS", models: ["gpt-5.5"] }]),
      CHATGPT_PLUS: seed,
      CHATGPT_TOKEN_URL: chatgpt.tokenUrl,
    });
    try {
      const local$ = new OpenAI({ baseURL: `${local.url}/v1`, apiKey: "none", maxRetries: 0 });
      const results = await Promise.all(Array.from({ length: 8 }, (_, index) => local$.responses.create({ model: "gpt-5.5", input: `parallel ${index}` })));
      expect(results.every((response) => response.status === "completed")).toBe(true);
      expect(chatgpt.tokenRefreshCount()).toBe(1);
      const sent = chatgpt.requests.filter((request) => request.method === "POST" && request.path.endsWith("/responses"));
      expect(sent.every((request) => request.headers["chatgpt-account-id"] === "acct-1" && request.body.store === false)).toBe(true);
    } finally {
      await local.close();
      await chatgpt.close();
    }
  });

  it("a refresh token the provider rejects disables the account; the other account serves", async () => {
    const chatgpt = await startFakeUpstream({ requireIssuedTokens: true, pathPrefix: "/backend-api/codex" });
    chatgpt.failTokenRefresh("invalid_grant");
    const local = await startGateway({
      ...variables(),
      UPSTREAMS: upstreams([]).replace(/^\[/, `[{"id":"plus","kind":"chatgpt","url":"${chatgpt.url}","credential":"CHATGPT_PLUS","models":["gpt-5.5"],"priority":-1},`),
      CHATGPT_PLUS: fakeChatGptSeed("acct-2", { expSeconds: Math.floor(Date.now() / 1000) - 10 }),
      CHATGPT_TOKEN_URL: chatgpt.tokenUrl,
    });
    try {
      const local$ = new OpenAI({ baseURL: `${local.url}/v1`, apiKey: key, maxRetries: 0 });
      const response = await local$.responses.create({ model: "gpt-5.5", input: "x" });
      expect(response.status).toBe("completed");
      expect(posts(a).length).toBeGreaterThan(0);
      const plus = (await admin(local, "/admin/accounts")).body.accounts.find((account) => account.id === "plus") as unknown as { chatgpt: { disabled?: string } };
      expect(plus.chatgpt.disabled).toMatch(/invalid_grant/);
    } finally {
      await local.close();
      await chatgpt.close();
    }
  });
});

describe("cooldowns survive restarts", () => {
  it("a cooldown set before a restart still routes around the account after it", async () => {
    const storage = mkdtempSync(join(tmpdir(), "turnpike-cooldowns-"));
    try {
      const first = await startGateway(variables(), { persistTo: storage });
      a.script("rate-limited");
      const firstClient = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: key, maxRetries: 0 });
      await firstClient.responses.create({ model: "gpt-5.5", input: "before" });
      await first.close();
      const second = await startGateway(variables(), { persistTo: storage });
      try {
        const secondClient = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: key, maxRetries: 0 });
        await secondClient.responses.create({ model: "gpt-5.5", input: "after" });
        expect(posts(a)).toHaveLength(1);
        expect(posts(b)).toHaveLength(2);
        const state = (await admin(second, "/admin/accounts")).body.accounts.find((account) => account.id === "a")!;
        expect(state.cooldowns[0]).toMatchObject({ model: "gpt-5.5", reason: "rate_limited" });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
  });
});

describe("configuration errors name the entry and field", () => {
  it.each([
    ['[{"id":"x","kind":"azure","url":"https://a"}]', /UPSTREAMS\[0\]\.kind must be/],
    ['[{"id":"x","kind":"openai"}]', /UPSTREAMS\[0\]\.url is required/],
    ['[{"id":"x","kind":"openai","url":"https://a","credential":"MISSING"}]', /UPSTREAMS\[0\]\.credential names 'MISSING', which is not set/],
    ['[{"id":"x","kind":"mock"},{"id":"x","kind":"mock"}]', /UPSTREAMS\[1\]\.id 'x' is used twice/],
    ['[{"id":"x","kind":"mock","wieght":2}]', /UPSTREAMS\[0\] has unknown fields \(wieght\)/],
    ["not json", /UPSTREAMS must be a JSON list/],
  ])("%s", async (value, message) => {
    const { parseConfiguration } = await import("../../src/configuration/configuration");
    expect(() => parseConfiguration({ UPSTREAMS: value })).toThrowError(message);
  });
});
