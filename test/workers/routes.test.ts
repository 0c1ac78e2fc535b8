// Routes, auth and configuration handling, inside workerd. `app.fetch` is called with an
// explicit environment so each test can configure the gateway as a deployment would.
import { describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";

const key = "test-key-1";
const environment = { GATEWAY_KEYS: `${key},test-key-2` };

function call(path: string, init: RequestInit = {}, env: Record<string, unknown> = environment) {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization") && !headers.has("x-api-key")) headers.set("authorization", `Bearer ${key}`);
  return app.fetch(new Request(`http://gateway.test${path}`, { ...init, headers }), env);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary JSON
const readJson = (response: Response): Promise<any> => response.json();

const create = (body: unknown) => ({ method: "POST", body: JSON.stringify(body) });

describe("routes", () => {
  it("GET /health answers without a key", async () => {
    const response = await app.fetch(new Request("http://gateway.test/health"), environment);
    expect(response.status).toBe(200);
    expect(await readJson(response)).toMatchObject({ status: "ok", upstream: "mock" });
  });

  it.each(["/v1/responses", "/responses", "/backend-api/codex/responses"])("POST %s streams from the mock", async (path) => {
    const response = await call(path, create({ model: "gpt-5.5", input: "ping", stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    expect(text).toContain("Echo: ping");
    expect(text.trim().split("\n\n").at(-1)).toMatch(/^event: response.completed/);
  });

  it.each(["/v1/responses/compact", "/responses/compact", "/backend-api/codex/responses/compact"])("POST %s answers JSON", async (path) => {
    const response = await call(path, create({ model: "gpt-5.5", input: [{ role: "user", content: "a" }] }));
    expect(response.status).toBe(200);
    expect((await readJson(response)).output).toHaveLength(1);
  });

  it.each(["/v1/models", "/models"])("GET %s lists models", async (path) => {
    const response = await call(path);
    expect((await readJson(response)).data.length).toBeGreaterThan(0);
  });

  it("unknown path → 404 JSON; wrong method → 405 JSON", async () => {
    const missing = await call("/v2/nothing");
    expect(missing.status).toBe(404);
    expect((await readJson(missing)).error.type).toBe("not_found_error");
    for (const [method, path] of [["DELETE", "/v1/responses"], ["PUT", "/v1/models"], ["POST", "/health"], ["GET", "/v1/responses/compact"]]) {
      const response = await call(path!, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect((await readJson(response)).error.message).toMatch(/not allowed/);
    }
  });

  it("a WebSocket upgrade is refused with 426 so Codex falls back to HTTP", async () => {
    const response = await call("/v1/responses", { headers: { upgrade: "websocket", authorization: `Bearer ${key}` } });
    expect(response.status).toBe(426);
  });

  it("the real Worker entry serves the same app", async () => {
    const { exports } = await import("cloudflare:workers");
    const worker = (exports as unknown as { default: Fetcher }).default;
    const response = await worker.fetch("http://gateway.test/v1/responses", {
      method: "POST",
      headers: { "x-api-key": "test-key-2" },
      body: JSON.stringify({ model: "gpt-5.5", input: "entry" }),
    });
    expect((await readJson(response)).output[0].content[0].text).toBe("Echo: entry");
  });
});

describe("request bodies", () => {
  const streamOfBytes = (bytes: Uint8Array, chunk = 16 * 1024) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += chunk) controller.enqueue(bytes.slice(offset, offset + chunk));
        controller.close();
      },
    });
  const encoded = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));

  it("a chunked body (no Content-Length) is read within the limit", async () => {
    const response = await call("/v1/responses", { method: "POST", body: streamOfBytes(encoded({ model: "gpt-5.5", input: `chunked ${"y".repeat(100_000)}` })) });
    expect(response.status).toBe(200);
    expect((await readJson(response)).output[0].content[0].text).toMatch(/^Echo: chunked y/);
    const limited = { ...environment, MAX_BODY_BYTES: "50000" };
    const tooLarge = await call("/v1/responses", { method: "POST", body: streamOfBytes(encoded({ model: "gpt-5.5", input: "z".repeat(100_000) })) }, limited);
    expect(tooLarge.status).toBe(413);
    expect((await readJson(tooLarge)).error.message).toMatch(/MAX_BODY_BYTES/);
  });

  it("a gzip or deflate body is decompressed; another encoding → 415", async () => {
    for (const format of ["gzip", "deflate"] as const) {
      const compressed = streamOfBytes(encoded({ model: "gpt-5.5", input: `packed ${format}` })).pipeThrough(new CompressionStream(format));
      const response = await call("/v1/responses", { method: "POST", headers: { "content-encoding": format }, body: compressed });
      expect(response.status, format).toBe(200);
      expect((await readJson(response)).output[0].content[0].text).toBe(`Echo: packed ${format}`);
    }
    const refused = await call("/v1/responses", { method: "POST", headers: { "content-encoding": "br" }, body: JSON.stringify({ model: "gpt-5.5" }) });
    expect(refused.status).toBe(415);
    expect((await readJson(refused)).error.type).toBe("invalid_request_error");
  });

  it("a declared length is read in one call, and refused before reading when over the limit", async () => {
    const body = JSON.stringify({ model: "gpt-5.5", input: "declared" });
    const declared = { "content-length": String(new TextEncoder().encode(body).byteLength) };
    const response = await call("/v1/responses", { method: "POST", headers: declared, body });
    expect((await readJson(response)).output[0].content[0].text).toBe("Echo: declared");
    const limited = { ...environment, MAX_BODY_BYTES: "10" };
    const tooLarge = await call("/v1/responses", { method: "POST", headers: declared, body }, limited);
    expect(tooLarge.status).toBe(413);
  });
});

describe("auth", () => {
  it("accepts Bearer and x-api-key; refuses wrong or missing keys with 401", async () => {
    const body = create({ model: "m", input: "x" });
    expect((await call("/v1/responses", { ...body, headers: { authorization: "Bearer test-key-2" } })).status).toBe(200);
    expect((await call("/v1/responses", { ...body, headers: { "x-api-key": key } })).status).toBe(200);
    const wrong = await call("/v1/responses", { ...body, headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect((await readJson(wrong)).error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    const missing = await app.fetch(new Request("http://gateway.test/v1/models"), environment);
    expect(missing.status).toBe(401);
  });

  it("with no GATEWAY_KEYS the gateway is open and says so once in the log", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const open = {};
    const response = await app.fetch(new Request("http://gateway.test/v1/models"), open);
    expect(response.status).toBe(200);
    await app.fetch(new Request("http://gateway.test/v1/models"), open);
    const warnings = warn.mock.calls.map((args) => String(args[0])).filter((line) => line.includes("GATEWAY_KEYS"));
    expect(warnings.length).toBeLessThanOrEqual(1);
    warn.mockRestore();
  });
});

describe("configuration errors", () => {
  it.each([
    [{ UPSTREAM_URL: "ftp://example.com" }, /UPSTREAM_URL must be an http\(s\) URL/],
    [{ UPSTREAM_URL: "not a url" }, /UPSTREAM_URL/],
    [{ UPSTREAM_KIND: "azure" }, /UPSTREAM_KIND must be 'openai' or 'chatgpt'/],
    [{ MAX_BODY_BYTES: "lots" }, /MAX_BODY_BYTES must be a number/],
    [{ WEBSOCKET_KEEPALIVE: "maybe" }, /WEBSOCKET_KEEPALIVE must be .on. or .off./],
    [{ STREAM_IDLE_TIMEOUT_MS: "-5" }, /STREAM_IDLE_TIMEOUT_MS must be greater than zero/],
    [{ UPSTREAM_URL: "https://chatgpt.com/backend-api/codex", UPSTREAM_KIND: "chatgpt" }, /UPSTREAM_ACCOUNT_ID is required/],
  ])("%o → every request is a generic 500; the log and /health?verbose with the admin key name the variable", async (variables, message) => {
    const env = { ...variables, UPSTREAM_API_KEY: "sk-secret-value-never-shown", ADMIN_KEY: "admin-key-for-health" };
    const logged: string[] = [];
    const error = vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    const texts: string[] = [];
    for (const path of ["/health", "/v1/responses", "/health?verbose"]) {
      const response = await app.fetch(new Request(`http://gateway.test${path}`, create({ model: "m" })), env);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text).error.message).toBe("The gateway is misconfigured; its operator can read why in the log.");
      texts.push(text);
    }
    const verbose = await app.fetch(new Request("http://gateway.test/health?verbose", { headers: { authorization: "Bearer admin-key-for-health" } }), env);
    expect(verbose.status).toBe(500);
    const detail = await verbose.text();
    expect(JSON.parse(detail).problem).toMatch(message);
    expect(logged.join("\n")).toMatch(message);
    // Never the invalid value itself (it could be a misplaced secret), nor any secret.
    const url = (variables as { UPSTREAM_URL?: string }).UPSTREAM_URL;
    for (const text of [...texts, detail, ...logged]) {
      expect(text).not.toContain("sk-secret-value-never-shown");
      if (url) expect(text).not.toContain(url);
    }
    error.mockRestore();
  });
});

describe("the chatgpt upstream kind", () => {
  it("adds ChatGPT-Account-ID, forces store:false and stream:true, and never forwards the gateway key", async () => {
    const seen: Request[] = [];
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input as RequestInfo, init));
      return new Response('event: response.completed\ndata: {"type":"response.completed","sequence_number":0,"response":{"id":"r","output":[]}}\n\n', {
        headers: { "content-type": "text/event-stream" },
      });
    });
    const env = {
      ...environment,
      UPSTREAM_URL: "https://chatgpt.example/backend-api/codex/",
      UPSTREAM_KIND: "chatgpt",
      UPSTREAM_API_KEY: "access-token-secret",
      UPSTREAM_ACCOUNT_ID: "acct-123",
    };
    const response = await call("/v1/responses", { ...create({ model: "gpt-5.5", input: "x", store: true }), headers: { "x-api-key": key, "session-id": "s1", cookie: "c=1" } }, env);
    expect(response.status).toBe(200);
    const upstream = seen[0]!;
    expect(upstream.url).toBe("https://chatgpt.example/backend-api/codex/responses");
    expect(upstream.headers.get("chatgpt-account-id")).toBe("acct-123");
    expect(upstream.headers.get("authorization")).toBe("Bearer access-token-secret");
    expect(upstream.headers.get("session-id")).toBe("s1");
    expect(upstream.headers.get("x-api-key")).toBeNull();
    expect(upstream.headers.get("cookie")).toBeNull();
    expect(await upstream.json()).toMatchObject({ store: false, stream: true });
    fetchSpy.mockRestore();
  });
});

describe("what the upstream says about failures", () => {
  const upstreamKey = "sk-live-upstream-secret-123456";
  const env = { ...environment, UPSTREAM_URL: "https://provider.example/v1", UPSTREAM_API_KEY: upstreamKey };
  const sse = (...events: Record<string, unknown>[]) =>
    new Response(events.map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });

  it("an in-stream error that echoes the upstream key reaches the client redacted", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () =>
      sse(
        { type: "response.created", sequence_number: 0, response: { id: "resp_r", status: "in_progress", output: [] } },
        { type: "error", sequence_number: 1, code: "server_error", message: `bad key ${upstreamKey} used` },
      ),
    );
    const streamed = await (await call("/v1/responses", create({ model: "gpt-5.5", input: "x", stream: true }), env)).text();
    const failedUpstream = vi.spyOn(globalThis, "fetch").mockImplementation(async () =>
      sse({ type: "response.failed", sequence_number: 0, response: { id: "resp_f", status: "failed", output: [], error: { code: "server_error", message: `key ${upstreamKey}` } } }),
    );
    const passedThrough = await (await call("/v1/responses", create({ model: "gpt-5.5", input: "x", stream: true }), env)).text();
    fetchSpy.mockRestore();
    failedUpstream.mockRestore();
    for (const text of [streamed, passedThrough]) {
      expect(text).toContain("response.failed");
      expect(text).not.toContain(upstreamKey);
      expect(text).toContain("[redacted]");
    }
  });

  it("a refused upstream credential: the client gets a 502 naming no account; the operator's log gets the detail", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () =>
      Response.json({ error: { message: "Incorrect API key provided: sk-live***3456.", type: "invalid_request_error", code: "invalid_api_key" } }, { status: 401 }),
    );
    const logged: string[] = [];
    const error = vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    const response = await call("/v1/responses", create({ model: "gpt-5.5", input: "x" }), env);
    const text = await response.text();
    fetchSpy.mockRestore();
    error.mockRestore();
    expect(response.status).toBe(502);
    expect(JSON.parse(text).error).toMatchObject({ code: "upstream_authentication_failed", type: "server_error" });
    expect(text).not.toMatch(/sk-live|default|invalid_api_key/);
    expect(logged.join("\n")).toMatch(/"account":"default".*Incorrect API key provided: sk-live\*\*\*3456/);
  });
});

describe("an upstream's JSON answer", () => {
  const env = { ...environment, UPSTREAM_URL: "https://provider.example/v1", UPSTREAM_API_KEY: "sk-json-test-key-123", STREAM_IDLE_TIMEOUT_MS: "200" };
  const stalled = (first: string) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(first));
        },
      }),
      { headers: { "content-type": "application/json" } },
    );
  const invalid = () => new Response("<html>oops</html>", { headers: { "content-type": "application/json" } });

  it.each([
    ["/v1/responses/compact", { model: "gpt-5.5", input: [] }],
    ["/v1/responses", { model: "gpt-5.5", input: "x", stream: false }],
    ["/v1/responses", { model: "gpt-5.5", input: "x", stream: true }],
  ])("%s %o: invalid JSON → 502, a stalled body → 504 within the idle limit", async (path, body) => {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => invalid());
    const bad = await call(path, create(body), env);
    expect(bad.status).toBe(502);
    expect((await readJson(bad)).error.type).toBe("server_error");
    fetchSpy.mockImplementation(async () => stalled('{"output":['));
    const started = Date.now();
    const slow = await call(path, create(body), env);
    fetchSpy.mockRestore();
    expect(slow.status).toBe(504);
    expect((await readJson(slow)).error.code).toBe("upstream_idle_timeout");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
