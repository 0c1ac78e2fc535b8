// A team's keys end to end (the Worker in workerd with a D1 database it makes its tables in, the
// fake upstream behind it): a key made with the admin API serves a Codex-like session and an Anthropic
// request, its usage shows the right tokens, a rate limit and a token budget trigger, a
// revocation holds on the next request, and GATEWAY_KEYS keep working beside team keys.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

const adminKey = "team-e2e-admin-key";
const staticKey = "team-e2e-static-key";
let upstream: FakeUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(new URL("../../wrangler.toml", import.meta.url).pathname, { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", GATEWAY_KEYS: staticKey, ADMIN_KEY: adminKey });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the admin API's JSON
type Json = any;

async function admin(method: string, path: string, body?: unknown): Promise<Json> {
  const response = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return response.json();
}

async function usageOf(keyId: string, requests: number): Promise<Json> {
  for (let waited = 0; waited < 5_000; waited += 100) {
    const usage = await admin("GET", "/admin/usage?group=key");
    const mine = usage.groups.find((group: Json) => group.group === keyId);
    if (mine && mine.requests >= requests) return mine;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no usage for ${keyId}`);
}

describe("a key made with the admin API", () => {
  it("serves a Codex-like session and an Anthropic request; its usage has their tokens", async () => {
    const { key, id } = await admin("POST", "/admin/keys", { name: "codex and claude" });
    const { body: base } = capturedRequest("codex-http-turn1-request.json");
    const sessionId = `team-session-${Date.now()}`;
    const headers = { authorization: `Bearer ${key}`, "session-id": sessionId };
    const first = await postTurn(`${gateway.url}/v1/responses`, { ...base, prompt_cache_key: sessionId }, headers);
    const history = [...(base.input as unknown[]), ...first.outputItems.map(reorderKeys), userMessage("and then?")];
    const second = await postTurn(`${gateway.url}/v1/responses`, { ...base, input: history, prompt_cache_key: sessionId }, headers);
    expect(second.headers.get("x-turnpike-turn")).toBe("delta");
    const claude = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
    const message = await claude.messages.create({ model: "claude-opus-4-8", max_tokens: 100, messages: [{ role: "user", content: "hello" }] });
    const usage = await usageOf(id, 3);
    const upstreamUsage = [first.response, second.response].map((response) => (response as Json).usage);
    const expectedInput = upstreamUsage.reduce((sum, entry) => sum + entry.input_tokens, 0) + message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0);
    const expectedOutput = upstreamUsage.reduce((sum, entry) => sum + entry.output_tokens, 0) + message.usage.output_tokens;
    expect(usage).toMatchObject({ requests: 3, errors: 0, input_tokens: expectedInput, output_tokens: expectedOutput });
    expect(usage.cost_micro_usd).toBeGreaterThan(0);
    const recent = await admin("GET", "/admin/requests?limit=3");
    expect(recent.requests.map((row: Json) => row.turn)).toEqual([null, "delta", "full"]);
  });

  it("a rate limit and a token budget each trigger, and a revocation holds on the next request", async () => {
    const limited = await admin("POST", "/admin/keys", { name: "limited", limits: { requests_per_minute: 2 } });
    const send = (key: string) => fetch(`${gateway.url}/v1/responses`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", input: "x" }) });
    expect([(await send(limited.key)).status, (await send(limited.key)).status, (await send(limited.key)).status]).toEqual([200, 200, 429]);

    const budget = await admin("POST", "/admin/keys", { name: "budget", limits: { tokens_per_month: 5 } });
    expect((await send(budget.key)).status).toBe(200);
    let refused: Response | undefined;
    for (let waited = 0; waited < 5_000 && !refused; waited += 100) {
      const response = await send(budget.key);
      if (response.status === 429) refused = response;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(((await refused!.json()) as Json).error.message).toMatch(/monthly budget of 5 tokens/);

    const revoked = await admin("POST", "/admin/keys", { name: "to revoke" });
    expect((await send(revoked.key)).status).toBe(200);
    await admin("POST", `/admin/keys/${revoked.id}/revoke`);
    expect((await send(revoked.key)).status).toBe(401);
  });

  it("GATEWAY_KEYS still authenticate beside team keys; other keys do not", async () => {
    const send = (key: string) => fetch(`${gateway.url}/v1/responses`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", input: "x" }) });
    expect((await send(staticKey)).status).toBe(200);
    expect((await send("some-other-key")).status).toBe(401);
  });
});

describe("an open gateway (no GATEWAY_KEYS, GATEWAY_OPEN=auto)", () => {
  it("closes once a team key exists: then no key, or a key that is not a team key, is refused", async () => {
    const open = await startInMiniflare(new URL("../../wrangler.toml", import.meta.url).pathname, { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", ADMIN_KEY: adminKey });
    try {
      const send = (headers: Record<string, string>) => fetch(`${open.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ model: "gpt-5.5", input: "x" }) });
      expect((await send({})).status).toBe(200);
      expect((await send({ authorization: "Bearer anything" })).status).toBe(200);
      const created = await fetch(`${open.url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ name: "first of the team" }) });
      const { key } = (await created.json()) as Json;
      expect((await send({})).status).toBe(401);
      expect((await send({ authorization: "Bearer anything" })).status).toBe(401);
      expect((await send({ authorization: `Bearer ${key}` })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
