// Bad input from clients gets a clear 4xx in the client's own error shape, never a 500 or a
// crash: on every route, stateless and through a session object.
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";

const worker = (exports as unknown as { default: Fetcher }).default;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary JSON
type Json = any;

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return worker.fetch(`http://gateway.test${path}`, { method: "POST", headers: { authorization: "Bearer test-key-1", ...headers }, body });
}

/** `depth` nested arrays: parses fine, overflows anything that recurses over it. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("JSON nested thousands of levels deep", () => {
  const deep = nested(5_000);
  const responses = `{"model":"gpt-5.5","input":"hi","metadata":{"deep":${deep}}}`;
  const messages = `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]},{"role":"assistant","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"deep":${deep}}}]}]}`;

  it.each([
    ["stateless stream", "/v1/responses", responses.replace('"input"', '"stream":true,"input"'), {}],
    ["stateless stream:false", "/v1/responses", responses, {}],
    ["a session turn", "/v1/responses", responses, { "session-id": "deep-json-session" }],
    ["a prompt_cache_key session", "/v1/responses", responses.replace('"input"', '"prompt_cache_key":"deep-key","input"'), {}],
    ["compaction", "/v1/responses/compact", responses, {}],
  ])("%s → 400 in the OpenAI shape", async (_name, path, body, headers) => {
    const error = vi.spyOn(console, "error");
    const response = await post(path, body, headers);
    expect(response.status).toBe(400);
    const json: Json = await response.json();
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.message).toMatch(/nests deeper than 100 levels/);
    expect(error.mock.calls.map(String).join("\n")).not.toMatch(/unhandled error/);
    error.mockRestore();
  });

  it.each([
    ["messages", "/v1/messages", {}],
    ["messages in a session", "/v1/messages", { "x-claude-code-session-id": "deep-json-claude" }],
    ["count_tokens", "/v1/messages/count_tokens", {}],
  ])("%s → 400 in the Anthropic shape", async (_name, path, headers) => {
    const response = await post(path, messages, headers);
    expect(response.status).toBe(400);
    const json: Json = await response.json();
    expect(json).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(json.error.message).toMatch(/nests deeper/);
  });

  it("a WebSocket frame → an error frame, and the socket keeps working", async () => {
    const response = await worker.fetch("http://gateway.test/v1/responses", { headers: { upgrade: "websocket", authorization: "Bearer test-key-1" } });
    const socket = response.webSocket!;
    socket.accept();
    const frames: Json[] = [];
    socket.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    socket.send(`{"type":"response.create","model":"gpt-5.5","input":"hi","metadata":${deep}}`);
    socket.send('{"type":"response.create","model":"gpt-5.5","input":"after"}');
    await vi.waitFor(() => expect(frames.some((frame) => frame.type === "response.completed")).toBe(true));
    expect(frames.find((frame) => frame.type === "error")).toMatchObject({ status: 400, error: { type: "invalid_request_error", message: expect.stringMatching(/nests deeper/) } });
    socket.close(1000);
  });

  it("function call arguments resent nested deeply are compared as text, not recursed into", async () => {
    const tools = [{ type: "function", name: "f", parameters: { type: "object", properties: {} } }];
    const history = (extra: unknown[]) =>
      JSON.stringify({ model: "gpt-5.5", tools, input: [{ role: "user", content: [{ type: "input_text", text: "call f" }] }, ...extra] });
    const first = await post("/v1/responses", history([]), { "session-id": "deep-arguments" });
    const output: Json[] = ((await first.json()) as Json).output;
    expect(output[0].type).toBe("function_call");
    // The client resends the call with arguments it rewrote into a deeply nested text.
    const resent = { ...output[0], arguments: nested(5_000) };
    const second = await post("/v1/responses", history([resent, { type: "function_call_output", call_id: output[0].call_id, output: "ok" }]), { "session-id": "deep-arguments" });
    expect(second.status).toBe(200);
    expect(second.headers.get("x-turnpike-full-reason")).toBe("history_edited");
  });
});

describe("Upgrade: websocket on a POST", () => {
  it.each([
    ["/v1/responses", JSON.stringify({ model: "gpt-5.5", input: "post upgrade", stream: true }), { "session-id": "post-upgrade" }],
    ["/v1/messages", JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "post upgrade" }] }), { "x-claude-code-session-id": "post-upgrade-claude" }],
  ])("%s is an ordinary request, not a socket", async (path, body, headers) => {
    // Through the app itself: the runtime's own fetch turns any request with Upgrade into a GET.
    const request = new Request(`http://gateway.test${path}`, {
      method: "POST",
      headers: { authorization: "Bearer test-key-1", ...headers, upgrade: "websocket", connection: "upgrade" },
      body,
    });
    const response = await app.fetch(request, env as unknown as Record<string, unknown>);
    expect(response.status).toBe(200);
    expect(response.webSocket).toBeNull();
    expect(await response.text()).toContain("post upgrade");
  });
});

describe("a session object that cannot be reached (reset, overloaded)", () => {
  const failing = {
    idFromName: (name: string) => name,
    get: () => ({ fetch: () => Promise.reject(new Error("Durable Object reset because its code was updated.")) }),
  };
  const broken = { ...(env as unknown as Record<string, unknown>), SESSIONS: failing };

  it.each([
    ["/v1/responses", JSON.stringify({ model: "gpt-5.5", input: "x", stream: true }), { "session-id": "s" }, (json: Json) => json.error],
    ["/v1/messages", JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "x" }] }), { "x-claude-code-session-id": "s" }, (json: Json) => json.error],
  ])("%s → a retryable 503-class error in the client's shape, and a log line", async (path, body, headers, errorOf) => {
    const logged: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    const warn = vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    const request = new Request(`http://gateway.test${path}`, { method: "POST", headers: { authorization: "Bearer test-key-1", ...headers }, body });
    const response = await app.fetch(request, broken);
    log.mockRestore();
    warn.mockRestore();
    expect([503, 529]).toContain(response.status);
    expect(response.headers.get("retry-after")).toBe("1");
    const error = errorOf(await response.json());
    expect(error.message).toMatch(/session could not be reached/);
    const line = logged.map((entry) => JSON.parse(entry)).find((entry) => entry.route === `POST ${path}`);
    expect(line).toMatchObject({ status: response.status, error: "service_unavailable" });
    expect(logged.join("\n")).toMatch(/reset because its code was updated/);
  });
});

describe("the gateway's internal headers from a client", () => {
  it("cannot silence the request's log line or choose its request id", async () => {
    const logged: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    const response = await worker.fetch("http://gateway.test/v1/responses", {
      method: "POST",
      headers: { authorization: "Bearer test-key-1", "session-id": "spoofed-headers", "x-turnpike-log-owner": "caller", "x-turnpike-request-id": "chosen-by-client", "x-turnpike-route": "GET /nowhere" },
      body: JSON.stringify({ model: "gpt-5.5", input: "spoof" }),
    });
    expect(response.status).toBe(200);
    await response.text();
    await vi.waitFor(() => expect(logged.some((line) => line.includes('"route":"POST /v1/responses"'))).toBe(true));
    log.mockRestore();
    expect(response.headers.get("x-turnpike-request-id")).not.toBe("chosen-by-client");
    expect(logged.join("\n")).not.toContain("chosen-by-client");
    expect(logged.join("\n")).not.toContain("/nowhere");
  });
});

describe("count_tokens on hostile text", () => {
  const count = (text: string) =>
    post("/v1/messages/count_tokens", JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: text }] }), { "content-type": "application/json" });

  // The first count loads the tokenizer's tables (seconds under the test runner's module loader).
  it("1 MiB of one unbroken run is counted in linear time, and the gateway keeps serving meanwhile", { timeout: 30_000 }, async () => {
    await count("warm up the tokenizer");
    const started = Date.now();
    const counting = count("x".repeat(1024 * 1024));
    const health = worker.fetch("http://gateway.test/health").then(() => Date.now() - started);
    const response = await counting;
    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    // o200k has 8-character tokens of `x`: about 131,072 of them (an estimate would say 262,144).
    const tokens = ((await response.json()) as Json).input_tokens;
    expect(tokens).toBeGreaterThan(125_000);
    expect(tokens).toBeLessThan(140_000);
    expect(elapsed).toBeLessThan(5_000);
    expect(await health).toBeLessThan(elapsed);
  });

  it("counting grows linearly: 256 KB of a run takes about 8× what 32 KB takes, not 64×", async () => {
    const time = async (size: number) => {
      const started = performance.now();
      await (await count("y".repeat(size))).json();
      return performance.now() - started;
    };
    await time(32_000);
    const small = Math.max(await time(32_000), 5);
    const large = await time(256_000);
    expect(large / small).toBeLessThan(30);
  });

  it("past the documented size → 413 in the Anthropic shape", async () => {
    const response = await count("z ".repeat(4.5 * 1024 * 1024));
    expect(response.status).toBe(413);
    expect(((await response.json()) as Json)).toMatchObject({ type: "error", error: { type: "request_too_large" } });
  });
});

describe("count_tokens without the tokenizer Worker", () => {
  it("answers an estimate (about four characters a token), not nothing", async () => {
    const { app } = await import("../../src/app");
    const { TOKENIZER: _tokenizer, ...withoutTokenizer } = env as unknown as Record<string, unknown>;
    const response = await app.fetch(
      new Request("http://gateway.test/v1/messages/count_tokens", { method: "POST", headers: { authorization: "Bearer test-key-1" }, body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x".repeat(4_000) }] }) }),
      withoutTokenizer,
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).input_tokens).toBe(1_004);
  });
});
