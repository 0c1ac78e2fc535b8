// A team's side of the gateway inside workerd: keys in D1 (created, listed, edited, revoked),
// their limits counted by each key's gate (each kind, with the 429 in every protocol's shape and a
// Retry-After), a model list per key, usage rows for each protocol and failure, retention, prices.
import { createExecutionContext, createScheduledController, env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { emptyCounters, admit, finish } from "../../src/team/key-limits";
import { costMicroUsd, parsePrices, defaultPrices } from "../../src/team/prices";
import { deleteOldUsage } from "../../src/team/usage-recorder";

const worker = (exports as unknown as { default: Fetcher }).default;
const db = (env as unknown as { DB: D1Database }).DB;
const admin = { authorization: "Bearer test-admin-key", "content-type": "application/json" };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary JSON
type Json = any;

async function adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await worker.fetch(`http://gateway.test${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

async function newKey(body: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const created = await adminCall("POST", "/admin/keys", { name: `key ${Math.random()}`, ...body });
  expect(created.status).toBe(201);
  return { key: created.json.key, id: created.json.id };
}

function call(key: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return worker.fetch(`http://gateway.test${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

const responses = { model: "gpt-5.5", input: "hi" };
const messages = { model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] };
const chat = { model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] };

/** Usage rows are written shortly after their request (batched): wait for them. */
async function usageOf(keyId: string, count: number): Promise<Json[]> {
  let rows: Json[] = [];
  await vi.waitFor(
    async () => {
      rows = (await db.prepare("SELECT * FROM usage WHERE key_id = ? ORDER BY id").bind(keyId).all()).results;
      expect(rows.length).toBeGreaterThanOrEqual(count);
    },
    { timeout: 3_000, interval: 50 },
  );
  return rows;
}

describe("keys", () => {
  it("created (shown once), listed without the key, used, edited, revoked: refused on the next request", async () => {
    const { key, id } = await newKey({ name: "alice" });
    expect(key).toMatch(/^tpk_[A-Za-z0-9]{40}$/);
    const listed = await adminCall("GET", "/admin/keys");
    const row = listed.json.keys.find((entry: Json) => entry.id === id);
    expect(row).toMatchObject({ name: "alice", prefix: key.slice(0, 10), revoked_at: null });
    expect(JSON.stringify(listed.json)).not.toContain(key);
    const stored = await db.prepare("SELECT * FROM gateway_keys WHERE id = ?").bind(id).first<Json>();
    expect(JSON.stringify(stored)).not.toContain(key);

    expect((await call(key, "/v1/responses", responses)).status).toBe(200);
    const edited = await adminCall("PATCH", `/admin/keys/${id}`, { name: "alice (laptop)", limits: { tokens_per_day: 1_000_000 } });
    expect(edited.json).toMatchObject({ name: "alice (laptop)", limits: { tokens_per_day: 1_000_000 } });
    // Counted against the limits it now has.
    await adminCall("PATCH", `/admin/keys/${id}`, { limits: { requests_per_minute: 100, tokens_per_day: 1_000_000 } });
    expect((await call(key, "/v1/responses", responses)).status).toBe(200);
    const status = await adminCall("GET", `/admin/keys/${id}`);
    expect(status.json).toMatchObject({ id, name: "alice (laptop)", in_use: { requests_last_minute: 1, streams: 0 } });
    // The tokens are counted when the stream has ended, which may be just after the client read it.
    await expect.poll(async () => (await adminCall("GET", `/admin/keys/${id}`)).json.in_use.tokens_today, { timeout: 3_000, interval: 50 }).toBeGreaterThan(0);
    expect(JSON.stringify(status.json)).not.toContain(key);
    expect((await adminCall("POST", `/admin/keys/${id}/revoke`)).json.revoked_at).toBeGreaterThan(0);
    const refused = await call(key, "/v1/responses", responses);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).error).toMatchObject({ code: "key_revoked", type: "authentication_error" });
  });

  it("an unknown tpk_ key is a 401; a static key still works; bad admin bodies are 400s", async () => {
    expect((await call("tpk_" + "x".repeat(40), "/v1/responses", responses)).status).toBe(401);
    expect((await call("test-key-1", "/v1/responses", responses)).status).toBe(200);
    expect((await adminCall("POST", "/admin/keys", { name: "", limits: {} })).status).toBe(400);
    expect((await adminCall("POST", "/admin/keys", { name: "x", limits: { requests_per_minute: -1 } })).json.error.param).toBe("limits.requests_per_minute");
    expect((await adminCall("POST", "/admin/keys", { name: "x", colour: "red" })).json.error.message).toMatch(/unknown fields \(colour\)/);
    expect((await adminCall("PATCH", "/admin/keys/key_nope", { name: "y" })).status).toBe(404);
    const noAdmin = await worker.fetch("http://gateway.test/admin/keys", { headers: { authorization: "Bearer test-key-1" } });
    expect(noAdmin.status).toBe(401);
  });

  it("a key's model list: other models are a 403 naming the model, in each protocol's shape; /v1/models lists only its own", async () => {
    const { key } = await newKey({ models: ["gpt-5.5-mini"] });
    const refused = await call(key, "/v1/responses", responses);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Json).error).toMatchObject({ code: "model_not_allowed", message: expect.stringContaining("gpt-5.5") });
    const anthropic = await call(key, "/v1/messages", messages);
    expect(anthropic.status).toBe(403);
    expect(((await anthropic.json()) as Json)).toMatchObject({ type: "error", error: { type: "permission_error" } });
    // A session named in a header: the body is checked in the session object.
    expect((await call(key, "/v1/responses", responses, { "session-id": "model-check" })).status).toBe(403);
    expect((await call(key, "/v1/responses", { ...responses, model: "gpt-5.5-mini" })).status).toBe(200);
    const models = await worker.fetch("http://gateway.test/v1/models", { headers: { authorization: `Bearer ${key}` } });
    expect((((await models.json()) as Json).data as Json[]).map((model) => model.id)).toEqual(["gpt-5.5-mini"]);
  });
});

describe("limits", () => {
  it("requests per minute: the next one is a 429 with Retry-After, in the OpenAI, Anthropic and Chat Completions shapes", async () => {
    const { key } = await newKey({ limits: { requests_per_minute: 2 } });
    expect((await call(key, "/v1/responses", responses)).status).toBe(200);
    expect((await call(key, "/v1/messages", messages)).status).toBe(200);
    for (const [path, body, check] of [
      ["/v1/responses", responses, (json: Json) => expect(json.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" })],
      ["/v1/messages", messages, (json: Json) => expect(json).toMatchObject({ type: "error", error: { type: "rate_limit_error" } })],
      ["/v1/chat/completions", chat, (json: Json) => expect(json.error).toMatchObject({ type: "rate_limit_error" })],
    ] as const) {
      const limited = await call(key, path, body);
      expect(limited.status, path).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      const json = (await limited.json()) as Json;
      check(json);
      expect(JSON.stringify(json)).toMatch(/2 requests per minute/);
    }
  });

  it("a token budget: refused once used up, until the window turns", async () => {
    const { key } = await newKey({ limits: { tokens_per_day: 10 } });
    expect((await call(key, "/v1/responses", responses)).status).toBe(200);
    // The budget is charged as the response completes (after its stream): give it a moment.
    await vi.waitFor(async () => expect((await call(key, "/v1/responses", responses)).status).toBe(429), { timeout: 3_000, interval: 100 });
    const limited = await call(key, "/v1/responses", responses);
    expect(((await limited.json()) as Json).error.message).toMatch(/daily budget of 10 tokens/);
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(Math.ceil((tomorrow.getTime() - Date.now()) / 1000) + 1);
  });

  it("concurrent streams: a second stream at once is refused; when the first ends its place is free", async () => {
    const { key } = await newKey({ limits: { concurrent_streams: 1 } });
    const first = await call(key, "/v1/responses", { ...responses, stream: true });
    expect(first.status).toBe(200);
    // Its body is not read yet: the stream is still open.
    const second = await call(key, "/v1/responses", responses);
    expect(second.status).toBe(429);
    expect(((await second.json()) as Json).error.message).toMatch(/1 requests in progress/);
    await first.text();
    await vi.waitFor(async () => expect((await call(key, "/v1/responses", responses)).status).toBe(200), { timeout: 3_000, interval: 100 });
  });

  it("over a WebSocket: each turn is admitted; over the limit an error frame with its status and Retry-After", async () => {
    const { key } = await newKey({ limits: { requests_per_minute: 1 } });
    const response = await worker.fetch("http://gateway.test/v1/responses", { headers: { authorization: `Bearer ${key}`, upgrade: "websocket", "session-id": `ws-limit-${Date.now()}` } });
    const socket = response.webSocket!;
    socket.accept();
    const frames: Json[] = [];
    socket.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    socket.send(JSON.stringify({ type: "response.create", model: "gpt-5.5", input: "one" }));
    await vi.waitFor(() => expect(frames.some((frame) => frame.type === "response.completed")).toBe(true));
    socket.send(JSON.stringify({ type: "response.create", model: "gpt-5.5", input: "two" }));
    await vi.waitFor(() => expect(frames.some((frame) => frame.type === "error")).toBe(true), { timeout: 3_000 });
    expect(frames.find((frame) => frame.type === "error")).toMatchObject({ status: 429, error: { type: "rate_limit_error" }, headers: { "retry-after": expect.any(String) } });
    socket.close(1000);
  });

  it("the pure counters: a sliding minute, leases that expire, budgets that roll over", () => {
    const start = Date.UTC(2026, 11, 1, 23, 59, 30);
    const counters = emptyCounters(start);
    const limits = { requests_per_minute: 2, concurrent_streams: 1, tokens_per_day: 100 };
    const first = admit(limits, counters, start, "a", true);
    expect(first).toEqual({ admitted: true, lease: "a" });
    expect(admit(limits, counters, start + 1, "b", true)).toMatchObject({ admitted: false, limit: "concurrent_streams" });
    expect(admit(limits, counters, start + 2, "c", false)).toEqual({ admitted: true, lease: undefined });
    expect(admit(limits, counters, start + 3, "d", false)).toMatchObject({ admitted: false, limit: "requests_per_minute", retryAfterSeconds: 60 });
    finish(counters, start + 4, "a", 150);
    expect(admit(limits, counters, start + 20_000, "e", true)).toMatchObject({ admitted: false, limit: "tokens_per_day" });
    // Past midnight UTC the daily budget is whole again (and the minute's requests are past).
    expect(admit(limits, counters, start + 61_000, "f", true)).toEqual({ admitted: true, lease: "f" });
  });
});

describe("usage rows", () => {
  it("one per request, for each protocol and for failures, with tokens, cost, turn and session — never a body or a key", async () => {
    const { key, id } = await newKey();
    await (await call(key, "/v1/responses", { ...responses, stream: true })).text();
    await (await call(key, "/v1/messages", { ...messages, stream: true }, { "x-claude-code-session-id": `usage-${Date.now()}` })).text();
    await (await call(key, "/v1/chat/completions", chat)).text();
    await (await call(key, "/v1/responses", { model: "gpt-5.5" , input: 5 })).text();
    const rows = await usageOf(id, 4);
    expect(rows.map((row) => row.protocol)).toEqual(["responses", "anthropic", "chat-completions", "responses"]);
    expect(rows[0]).toMatchObject({ status: 200, terminal: "response.completed", client_model: "gpt-5.5", account_id: "mock", turn: null });
    expect(rows[0].input_tokens).toBeGreaterThan(0);
    expect(rows[0].output_tokens).toBeGreaterThan(0);
    expect(rows[0].cost_micro_usd).toBe(costMicroUsd(defaultPrices, "gpt-5.5", { input: rows[0].input_tokens, cached: rows[0].cached_tokens, output: rows[0].output_tokens }));
    expect(rows[1]).toMatchObject({ client_model: "claude-sonnet-4-5", upstream_model: "gpt-5.5", turn: "full" });
    // Priced as the model that served it (MODEL_MAP's claude-* → gpt-5.5), not as an unknown claude-*.
    expect(rows[1].cost_micro_usd).toBe(costMicroUsd(defaultPrices, "gpt-5.5", { input: rows[1].input_tokens, cached: rows[1].cached_tokens, output: rows[1].output_tokens }));
    expect(rows[1].session).toMatch(/^[0-9a-f]{12}$/);
    expect(rows[3]).toMatchObject({ status: 400, terminal: null });
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain("hi");
    const used = await adminCall("GET", "/admin/usage?group=protocol");
    expect(used.json.groups.map((group: Json) => group.group)).toEqual(expect.arrayContaining(["responses", "anthropic", "chat-completions"]));
    const recent = await adminCall("GET", "/admin/requests?limit=3");
    expect(recent.json.requests[0]).toMatchObject({ key_id: id, key_name: expect.stringContaining("key") });
  });

  it("a model name of any length is kept clipped, in the log line and the usage row", async () => {
    const { key, id } = await newKey();
    const log = vi.spyOn(console, "log");
    const model = `gpt-${"x".repeat(100_000)}`;
    await (await call(key, "/v1/responses", { ...responses, model })).text();
    const [row] = await usageOf(id, 1);
    expect(String(row!.client_model).length).toBeLessThanOrEqual(257);
    expect(String(row!.client_model)).toMatch(/^gpt-x+…$/);
    const lines = log.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(`"route":"POST /v1/responses"`) && line.includes("gpt-xxx"));
    log.mockRestore();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length).toBeLessThan(2_000);
  });

  it("a refused request has its row too (the operator sees the 429s)", async () => {
    const { key, id } = await newKey({ limits: { requests_per_minute: 1 } });
    await (await call(key, "/v1/responses", responses)).text();
    await (await call(key, "/v1/responses", responses)).text();
    const rows = await usageOf(id, 2);
    expect(rows.map((row) => row.status)).toEqual([200, 429]);
  });

  it("rows past USAGE_RETENTION_DAYS are deleted by the scheduled handler", async () => {
    const old = Date.now() - 100 * 86_400_000;
    await db.prepare("INSERT INTO usage (at, key_id, protocol, route) VALUES (?, 'key_old', 'responses', 'POST /v1/responses')").bind(old).run();
    expect(await deleteOldUsage(db, 90)).toBeGreaterThanOrEqual(1);
    expect(await db.prepare("SELECT COUNT(*) AS n FROM usage WHERE key_id = 'key_old'").first<Json>()).toEqual({ n: 0 });
    // The daily trigger runs the same deletion.
    await db.prepare("INSERT INTO usage (at, key_id, protocol, route) VALUES (?, 'key_old', 'responses', 'POST /v1/responses')").bind(old).run();
    const handler = (await import("../../src/index")).default;
    await handler.scheduled(createScheduledController(), env as unknown as Record<string, unknown>, createExecutionContext());
    expect(await db.prepare("SELECT COUNT(*) AS n FROM usage WHERE key_id = 'key_old'").first<Json>()).toEqual({ n: 0 });
  });

  it("usage answers at most 200 groups and says when there were more", async () => {
    // A range of its own, far in the past, holding only these rows.
    const at = Date.UTC(2020, 0, 1);
    const statements = Array.from({ length: 201 }, (_, index) =>
      db.prepare("INSERT INTO usage (at, key_id, protocol, route) VALUES (?, ?, 'responses', 'POST /v1/responses')").bind(at, `key_many_${index}`),
    );
    await db.batch(statements);
    const all = await adminCall("GET", `/admin/usage?group=key&from=${at}&to=${at + 1}`);
    expect(all.json.groups).toHaveLength(200);
    expect(all.json.groups_truncated).toBe(true);
    expect(all.json.series.truncated).toBe(false);
    expect(all.json.totals.requests).toBe(201);
    const few = await adminCall("GET", `/admin/usage?group=protocol&from=${at}&to=${at + 1}`);
    expect([few.json.groups.length, few.json.groups_truncated]).toEqual([1, false]);
  });

  it("a series cut at its 5,000 points keeps the latest whole days", async () => {
    const [first, second] = [Date.UTC(2019, 0, 1), Date.UTC(2019, 0, 2)];
    const insert = "INSERT INTO usage (at, key_id, protocol, route) VALUES (?, ?, 'responses', 'POST /v1/responses')";
    const statements = [first, second].flatMap((at) => Array.from({ length: 2_600 }, (_, index) => db.prepare(insert).bind(at, `key_series_${index}`)));
    await db.batch(statements);
    const usage = await adminCall("GET", `/admin/usage?from=${first}&to=${second + 86_400_000}`);
    expect(usage.json.series.truncated).toBe(true);
    const buckets = new Set(usage.json.series.points.map((point: Json) => point.bucket));
    // The first day would be cut partway: it is left out whole, the latest day is all there.
    expect([...buckets]).toEqual(["2019-01-02"]);
    expect(usage.json.series.points).toHaveLength(2_600);
  });
});

describe("the price table", () => {
  beforeEach(() => undefined);
  it("cached input is priced apart, unknown models cost nothing, PRICES goes first", () => {
    expect(costMicroUsd(defaultPrices, "gpt-5.5", { input: 1_000, cached: 400, output: 100 })).toBe(600 * 1.25 + 400 * 0.125 + 100 * 10);
    expect(costMicroUsd(defaultPrices, "some-other-model", { input: 1_000, cached: 0, output: 100 })).toBe(0);
    const own = parsePrices('{"gpt-5.5*": {"input": 2, "output": 8}}');
    expect(costMicroUsd(own, "gpt-5.5", { input: 10, cached: 10, output: 1 })).toBe(10 * 2 + 8);
    expect(() => parsePrices('{"x": {"input": -1, "output": 1}}')).toThrowError(/PRICES.x.input/);
  });
});
