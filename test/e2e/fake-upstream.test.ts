// Self-test of the fake upstream used by the e2e tests and the benchmark.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createParser } from "eventsource-parser";
import { WebSocket } from "ws";
import { startFakeUpstream } from "../support/fake-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
afterEach(() => fake.reset());

const userInput = (text: string) => [{ type: "message", role: "user", content: [{ type: "input_text", text }] }];

function post(body: unknown, path = "/responses", init: RequestInit = {}) {
  return fetch(fake.url + path, {
    method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: JSON.stringify(body), ...init,
  });
}

/** Reads an SSE body to the end; returns the events (with their `event:` name) and any read error. */
async function readSse(res: Response, onEvent?: (ev: any) => void) {
  const events: any[] = [];
  const parser = createParser({
    onEvent: (e) => {
      const ev = { event: e.event, ...JSON.parse(e.data) };
      events.push(ev);
      onEvent?.(ev);
    },
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("HTTP", () => {
  it("ok: full realistic SSE stream, headers, usage, unique ids, recorded request", async () => {
    const body = { model: "gpt-5.5", stream: true, store: false, input: userInput("say hi") };
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-codex-turn-state")).toMatch(/^ts-\d+$/);
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("99");
    expect(res.headers.get("x-codex-primary-used-percent")).toBe("12");
    const { events, error } = await readSse(res);
    expect(error).toBeUndefined();
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.filter((t) => t === "response.output_text.delta").length).toBeGreaterThanOrEqual(3);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    events.forEach((e, i) => {
      expect(e.sequence_number).toBe(i);
      expect(e.event).toBe(e.type);
    });
    const deltas = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
    expect(deltas).toBe("fake reply to: say hi");
    const done = events.at(-1)!.response;
    expect(done.id).toMatch(/^resp_fake_\d+$/);
    expect(`ts-${done.id.slice("resp_fake_".length)}`).toBe(res.headers.get("x-codex-turn-state"));
    expect(done.model).toBe("gpt-5.5");
    expect(done.status).toBe("completed");
    expect(done.output[0].content[0].text).toBe("fake reply to: say hi");
    const u = done.usage;
    expect(u.total_tokens).toBe(u.input_tokens + u.output_tokens);
    expect(typeof u.input_tokens_details.cached_tokens).toBe("number");
    expect(typeof u.output_tokens_details.reasoning_tokens).toBe("number");

    const second = await readSse(await post(body));
    expect(second.events.at(-1).response.id).not.toBe(done.id);

    expect(fake.requests).toHaveLength(2);
    const rec = fake.requests[0]!;
    expect(rec).toMatchObject({ method: "POST", path: "/v1/responses", transport: "http", scenario: "ok", body });
    expect(rec.bytes).toBe(JSON.stringify(body).length);
    expect(rec.headers.authorization).toBe("Bearer sk-test");
    expect(rec.clientAborted).toBeUndefined();
  });

  it("ok with stream:false answers the JSON response object", async () => {
    const res = await post({ model: "gpt-5.4", stream: false, input: "hello" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const json: any = await res.json();
    expect(json).toMatchObject({ object: "response", status: "completed", model: "gpt-5.4" });
    expect(json.output[0].content[0].text).toBe("fake reply to: hello");
  });

  it("function-call: one function_call item named after the first function tool", async () => {
    const tools = [{ type: "web_search" }, { type: "function", name: "shell", parameters: {} }];
    const { events } = await readSse(await post({ model: "fake:function-call", stream: true, tools, input: "x" }));
    const types = events.map((e) => e.type);
    expect(types).toContain("response.function_call_arguments.delta");
    const argsDone = events.find((e) => e.type === "response.function_call_arguments.done");
    expect(argsDone.arguments).toBe('{"cmd":"echo hi"}');
    const item = events.find((e) => e.type === "response.output_item.done").item;
    expect(item).toMatchObject({ type: "function_call", name: "shell", arguments: '{"cmd":"echo hi"}', status: "completed" });
    expect(item.call_id).toMatch(/^call_fake_\d+$/);
    expect(events.at(-1).response.output).toEqual([item]);
    const dflt = await readSse(await post({ model: "fake:function-call", stream: true, input: "x" }));
    expect(dflt.events.at(-1).response.output[0].name).toBe("exec_command");
  });

  it("empty-output: completed output is [], the item only in output_item.done", async () => {
    const { events } = await readSse(await post({ model: "fake:empty-output", stream: true, input: "x" }));
    expect(events.at(-1)).toMatchObject({ type: "response.completed", response: { output: [] } });
    expect(events.find((e) => e.type === "response.output_item.done").item.content[0].text).toBe("fake reply to: x");
  });

  it("early-close: clean end of body without a terminal event", async () => {
    const { events, error } = await readSse(await post({ model: "fake:early-close", stream: true, input: "x" }));
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(["response.created", "response.in_progress", "response.output_item.added",
      "response.content_part.added", "response.output_text.delta", "response.output_text.delta"]);
  });

  it("connection-reset: a few events, then the socket is destroyed", async () => {
    const { events, error } = await readSse(await post({ model: "fake:connection-reset", stream: true, input: "x" }));
    expect(error).toBeDefined();
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.some((e) => e.type === "response.completed")).toBe(false);
    expect(fake.requests[0]!.clientAborted).toBeUndefined();
  });

  it("in-stream-error: response.created then a flat error event", async () => {
    const { events } = await readSse(await post({ model: "fake:in-stream-error", stream: true, input: "x" }));
    expect(events.map((e) => e.type)).toEqual(["response.created", "error"]);
    expect(events[1]).toEqual({ event: "error", type: "error", sequence_number: 1, code: "server_is_overloaded",
      message: "Our servers are currently overloaded. Please try again later.", param: null });
  });

  it("response-failed: created, in_progress, response.failed", async () => {
    const { events } = await readSse(await post({ model: "fake:response-failed", stream: true, input: "x" }));
    expect(events.map((e) => e.type)).toEqual(["response.created", "response.in_progress", "response.failed"]);
    expect(events[2].response).toMatchObject({ object: "response", status: "failed", output: [],
      error: { code: "server_error", message: "The model failed to generate a response." } });
  });

  it("HTTP-status scenarios", async () => {
    const rl = await post({ model: "fake:rate-limited", stream: true, input: "x" });
    expect(rl.status).toBe(429);
    expect(rl.headers.get("retry-after")).toBe("120");
    expect(rl.headers.get("x-codex-primary-used-percent")).toBe("100");
    expect(rl.headers.get("x-codex-primary-reset-after-seconds")).toBe("120");
    expect(rl.headers.get("x-codex-primary-window-minutes")).toBe("300");
    const rlBody: any = await rl.json();
    expect(rlBody.error).toMatchObject({ type: "usage_limit_reached", plan_type: "plus", resets_in_seconds: 120 });
    expect(Math.abs(rlBody.error.resets_at - (Date.now() / 1000 + 120))).toBeLessThan(5);

    const se = await post({ model: "fake:server-error", input: "x" });
    expect(se.status).toBe(500);
    expect(await se.json()).toEqual({ error: { message: "Internal server error", type: "server_error", param: null, code: "server_error" } });
    const fd = await post({ model: "fake:fastapi-detail", input: "x" });
    expect(fd.status).toBe(400);
    expect(await fd.json()).toEqual({ detail: "Store must be set to false" });
    const ua = await post({ model: "fake:unauthorized", input: "x" });
    expect(ua.status).toBe(401);
    expect(((await ua.json()) as any).error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key", param: null });
  });

  it("silent: response.created then nothing; a client abort is recorded", async () => {
    const ac = new AbortController();
    const res = await post({ model: "fake:silent", stream: true, input: "x" }, "/responses", { signal: ac.signal });
    const seen: any[] = [];
    const reading = readSse(res, (ev) => seen.push(ev));
    await until(() => seen.length === 1);
    await sleep(100);
    expect(seen.map((e) => e.type)).toEqual(["response.created"]);
    expect(fake.requests[0]!.clientAborted).toBeUndefined();
    ac.abort();
    await reading;
    await until(() => fake.requests[0]!.clientAborted === true);
  });

  it("slow and silent-then-ok pace the stream", async () => {
    fake.script({ name: "slow", delayMs: 30 }, { name: "silent-then-ok", silenceMs: 300 });
    let t = Date.now();
    const slow = await readSse(await post({ model: "gpt-5.5", stream: true, input: "x" }));
    expect(slow.events.at(-1).type).toBe("response.completed");
    expect(Date.now() - t).toBeGreaterThanOrEqual(30 * (slow.events.length - 1) - 20);

    const times: number[] = [];
    t = Date.now();
    const sto = await readSse(await post({ model: "gpt-5.5", stream: true, input: "x" }), () => times.push(Date.now() - t));
    expect(sto.events.at(-1).type).toBe("response.completed");
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(250);
    expect(times.at(-1)! - times[1]!).toBeLessThan(200);
    expect(fake.requests.map((r) => r.scenario)).toEqual(["slow", "silent-then-ok"]);
  });

  it("script() is FIFO and overrides the model; then the model decides", async () => {
    fake.script("server-error", "rate-limited");
    expect((await post({ model: "fake:unauthorized", input: "x" })).status).toBe(500);
    expect((await post({ model: "gpt-5.5", input: "x" })).status).toBe(429);
    expect((await post({ model: "fake:unauthorized", input: "x" })).status).toBe(401);
    expect((await post({ model: "gpt-5.5", stream: false, input: "x" })).status).toBe(200);
    fake.script("server-error");
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect((await post({ model: "gpt-5.5", stream: false, input: "x" })).status).toBe(200);
  });

  it("compact, models, 404", async () => {
    const c = await post({ model: "fake:function-call", input: userInput("long history") }, "/responses/compact");
    expect(c.status).toBe(200);
    const cj: any = await c.json();
    expect(cj.output).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "compacted" }] }]);
    expect(cj.usage.total_tokens).toBe(cj.usage.input_tokens + cj.usage.output_tokens);
    fake.script("rate-limited");
    expect((await post({ model: "gpt-5.5", input: [] }, "/responses/compact")).status).toBe(429);

    const m = await fetch(fake.url + "/models");
    const mj: any = await m.json();
    expect(mj.object).toBe("list");
    expect(mj.data[0]).toMatchObject({ id: "gpt-5.5", object: "model", owned_by: "openai" });
    expect(typeof mj.data[0].created).toBe("number");

    const nf = await fetch(fake.url + "/nope");
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as any).error.message).toBe("Invalid URL (GET /v1/nope)");
  });
});

// ------------------------------------------------------------------ WebSocket

class WsClient {
  frames: any[] = [];
  closed: Promise<{ code: number }>;
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => {
      this.frames.push(JSON.parse(String(d)));
      this.waiters.splice(0).forEach((w) => w());
    });
    this.closed = new Promise((resolve) => ws.on("close", (code) => resolve({ code })));
  }
  static async open(url: string, headers: Record<string, string> = {}) {
    const ws = new WebSocket(url.replace(/^http/, "ws") + "/responses", { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new WsClient(ws);
  }
  create(fields: Record<string, unknown>) {
    this.ws.send(JSON.stringify({ type: "response.create", ...fields }));
  }
  /** Waits for the next frame matching pred (from `from` on); returns frames up to and including it. */
  async until(pred: (f: any) => boolean, from = 0, ms = 3000): Promise<any[]> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex((f, k) => k >= from && pred(f));
      if (i >= 0) return this.frames.slice(from, i + 1);
      if (Date.now() > end) throw new Error(`no matching frame; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(50)]);
    }
  }
  /** Sends a create and waits for its terminal frame. */
  async turn(fields: Record<string, unknown>) {
    const from = this.frames.length;
    this.create(fields);
    return this.until((f) => ["response.completed", "response.failed", "error"].includes(f.type), from);
  }
}

describe("WebSocket", () => {
  it("warm-up, continuation, one previous-response state per connection", async () => {
    const c = await WsClient.open(fake.url, { authorization: "Bearer sk-ws", "openai-beta": "responses_websockets=2026-02-06" });
    const warm = await c.turn({ model: "gpt-5.5", generate: false, input: userInput("system stuff") });
    expect(warm.map((f) => f.type)).toEqual(["response.created", "response.completed"]);
    expect(warm[1].response.output).toEqual([]);
    const warmId = warm[1].response.id;

    const t1 = await c.turn({ model: "gpt-5.5", previous_response_id: warmId, input: userInput("turn one") });
    expect(t1.map((f) => f.type)).toContain("response.output_item.done");
    expect(t1.at(-1).response.output[0].content[0].text).toBe("fake reply to: turn one");
    t1.forEach((f, i) => expect(f.sequence_number).toBe(i));
    const t1Id = t1.at(-1).response.id;

    // Continuation with only a tool output: the user text comes from the connection's history.
    const t2 = await c.turn({ model: "gpt-5.5", previous_response_id: t1Id,
      input: [{ type: "function_call_output", call_id: "c1", output: "ok" }] });
    expect(t2.at(-1).response.output[0].content[0].text).toBe("fake reply to: turn one");

    // Not the latest id → nested error, and the cached state is evicted.
    const stale = await c.turn({ model: "gpt-5.5", previous_response_id: t1Id, input: userInput("x") });
    expect(stale.at(-1)).toEqual({ type: "error", status: 400, error: { type: "invalid_request_error",
      code: "previous_response_not_found", message: `Previous response with id '${t1Id}' not found.`, param: "previous_response_id" } });
    const evicted = await c.turn({ model: "gpt-5.5", previous_response_id: t2.at(-1).response.id, input: userInput("x") });
    expect(evicted.at(-1).error.code).toBe("previous_response_not_found");
    const full = await c.turn({ model: "gpt-5.5", input: userInput("fresh") });
    expect(full.at(-1).type).toBe("response.completed");

    const recs = fake.requests.filter((r) => r.transport === "websocket");
    expect(recs[0]).toMatchObject({ method: "GET", path: "/v1/responses", body: null });
    expect(recs[0]!.headers["openai-beta"]).toBe("responses_websockets=2026-02-06");
    expect(recs.slice(1).map((r) => r.body.type)).toEqual(Array(6).fill("response.create"));
    expect(recs[1]!.bytes).toBe(JSON.stringify({ type: "response.create", model: "gpt-5.5", generate: false, input: userInput("system stuff") }).length);
    expect(fake.connectionCount()).toBe(1);
    c.ws.close();
    await c.closed;
    await until(() => fake.connectionCount() === 0);
  });

  it("scenarios over WS: failures, HTTP-status errors as nested frames, busy, abort", async () => {
    const c = await WsClient.open(fake.url);
    const fc = await c.turn({ model: "fake:function-call", input: "x", tools: [{ type: "function", name: "f" }] });
    expect(fc.at(-1).response.output[0]).toMatchObject({ type: "function_call", name: "f" });
    const ise = await c.turn({ model: "fake:in-stream-error", input: "x" });
    expect(ise.at(-1)).toMatchObject({ type: "error", code: "server_is_overloaded" });
    const rf = await c.turn({ model: "fake:response-failed", input: "x" });
    expect(rf.at(-1).type).toBe("response.failed");
    fake.script("rate-limited");
    const rl = await c.turn({ model: "gpt-5.5", input: "x" });
    expect(rl.at(-1)).toMatchObject({ type: "error", status: 429, error: { type: "usage_limit_reached" },
      headers: { "x-codex-primary-used-percent": "100" } });
    const fd = await c.turn({ model: "fake:fastapi-detail", input: "x" });
    expect(fd.at(-1)).toMatchObject({ type: "error", status: 400, error: { message: "Store must be set to false" } });

    const from = c.frames.length;
    c.create({ model: "fake:silent", input: "x" });
    await c.until((f) => f.type === "response.created", from);
    const busy = await c.turn({ model: "gpt-5.5", input: "x" });
    expect(busy.at(-1).error.code).toBe("response_already_in_progress");
    const silentRec = fake.requests.find((r) => r.scenario === "silent")!;
    expect(silentRec.clientAborted).toBeUndefined();
    c.ws.terminate();
    await until(() => silentRec.clientAborted === true);
  });

  it("early-close closes cleanly, connection-reset and dropConnections kill the socket", async () => {
    const a = await WsClient.open(fake.url);
    a.create({ model: "fake:early-close", input: "x" });
    expect((await a.closed).code).toBe(1000);
    expect(a.frames.some((f) => f.type === "response.completed")).toBe(false);
    const b = await WsClient.open(fake.url);
    b.create({ model: "fake:connection-reset", input: "x" });
    expect((await b.closed).code).toBe(1006);
    expect(b.frames.length).toBeGreaterThan(0);
    const c = await WsClient.open(fake.url);
    await until(() => fake.connectionCount() === 1);
    fake.dropConnections();
    expect(fake.connectionCount()).toBe(0);
    expect((await c.closed).code).toBe(1006);
  });

  it("slow over WS, Codex extras, upgrade rejection", async () => {
    const f2 = await startFakeUpstream({ codexExtras: true, pathPrefix: "/backend-api/codex" });
    try {
      expect(f2.url).toMatch(/\/backend-api\/codex$/);
      const c = await WsClient.open(f2.url);
      f2.script({ name: "slow", delayMs: 10 });
      const t = await c.turn({ model: "gpt-5.5", input: "x" });
      expect(t[0]).toEqual({ type: "response.metadata", headers: { "x-codex-turn-state": "ts-1" } });
      expect(t.at(-1).type).toBe("response.completed");
      f2.setUpgradeStatus(426);
      await expect(WsClient.open(f2.url)).rejects.toThrow(/426/);
      f2.setUpgradeStatus(null);
      await expect(WsClient.open(fake.url.replace("/v1", "/v2"))).rejects.toThrow(/404/);
    } finally {
      await f2.close();
    }
  });

  it("connection age limit → websocket_connection_limit_reached, then the server closes", async () => {
    const f2 = await startFakeUpstream({ connectionLimitMs: 100 });
    try {
      const c = await WsClient.open(f2.url);
      expect((await c.turn({ model: "gpt-5.5", input: "x" })).at(-1).type).toBe("response.completed");
      await sleep(150);
      const lim = await c.turn({ model: "gpt-5.5", input: "x" });
      expect(lim.at(-1)).toMatchObject({ type: "error", status: 400,
        error: { type: "invalid_request_error", code: "websocket_connection_limit_reached" } });
      expect((await c.closed).code).toBe(1000);
    } finally {
      await f2.close();
    }
  });
});

describe("close()", () => {
  it("ends in-flight streams and sockets and leaves no timers behind", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const f2 = await startFakeUpstream();
    f2.script({ name: "slow", delayMs: 10_000 }, { name: "silent-then-ok", silenceMs: 60_000 });
    const r1 = await fetch(f2.url + "/responses", { method: "POST", body: JSON.stringify({ model: "m", stream: true, input: "x" }) });
    const r2 = await fetch(f2.url + "/responses", { method: "POST", body: JSON.stringify({ model: "m", stream: true, input: "x" }) });
    const c = await WsClient.open(f2.url);
    c.create({ model: "fake:silent", input: "x" });
    await c.until((f) => f.type === "response.created");
    const reads = Promise.all([readSse(r1), readSse(r2)]);
    const t = Date.now();
    await f2.close();
    expect(Date.now() - t).toBeLessThan(1000);
    await reads;
    await c.closed;
    await sleep(20);
    expect(timers()).toBeLessThanOrEqual(before);
    await expect(fetch(f2.url + "/models")).rejects.toThrow();
  });
});
