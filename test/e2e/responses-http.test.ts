// The Responses HTTP path end to end: the official `openai` client → the Worker (started with
// wrangler) → the fake upstream, which injects every failure the gateway must survive.
import { readFileSync, readdirSync } from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { captureConsole, startGateway, type Gateway } from "../support/start-gateway";
import { readSse } from "../support/read-sse";

const upstreamKey = "sk-upstream-secret-0123456789abcdef";
const gatewayKey = "gw-key-e2e-0123456789";

let upstream: FakeUpstream;
let gateway: Gateway;
let client: OpenAI;
let console$: ReturnType<typeof captureConsole>;

beforeAll(async () => {
  console$ = captureConsole();
  upstream = await startFakeUpstream();
  gateway = await startGateway({
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: upstreamKey,
    GATEWAY_KEYS: `other-key,${gatewayKey}`,
    STREAM_IDLE_TIMEOUT_MS: "1500",
    KEEPALIVE_INTERVAL_MS: "300",
    MAX_BODY_BYTES: String(4 * 1024 * 1024),
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gatewayKey, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  console$?.restore();
  // No secret in anything the Worker printed during the whole file.
  const printed = console$.lines.join("\n");
  expect(printed).not.toContain(upstreamKey);
  expect(printed).not.toContain(gatewayKey);
});

beforeEach(() => upstream.reset());

async function streamEvents(model: string, input = "hello gateway") {
  const stream = await client.responses.create({ model, input, stream: true });
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function terminals(events: { type: string }[]) {
  return events.filter((event) => ["response.completed", "response.failed", "response.incomplete", "error"].includes(event.type));
}

describe("streaming", () => {
  it("streams every upstream event in order, numbered, ending with response.completed", async () => {
    const { data: stream, response } = await client.responses
      .create({ model: "gpt-5.5", input: "hello gateway", stream: true })
      .withResponse();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events[0]!.type).toBe("response.created");
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(terminals(events)).toEqual([events.at(-1)]);
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.type).toBe("response.completed");
    const message = completed.response.output.find((item) => item.type === "message") as OpenAI.Responses.ResponseOutputMessage;
    expect((message.content[0] as OpenAI.Responses.ResponseOutputText).text).toBe("fake reply to: hello gateway");
    // Routing and rate-limit headers come back; the gateway adds its request id.
    expect(response.headers.get("x-codex-turn-state")).toMatch(/^ts-/);
    expect(response.headers.get("x-codex-primary-used-percent")).toBe("12");
    expect(response.headers.get("x-turnpike-request-id")).toBeTruthy();
  });

  it("sends the upstream key upstream and never the gateway key", async () => {
    await streamEvents("gpt-5.5");
    const request = upstream.requests.find((entry) => entry.path === "/v1/responses")!;
    expect(request.headers.authorization).toBe(`Bearer ${upstreamKey}`);
    expect(JSON.stringify(request.headers)).not.toContain(gatewayKey);
    expect(request.body.stream).toBe(true);
  });

  it("passes unknown event types and fields through untouched", async () => {
    const extras = await startFakeUpstream({ codexExtras: true });
    const local = await startGateway({ UPSTREAM_URL: extras.url });
    try {
      const response = await fetch(`${local.url}/v1/responses`, {
        method: "POST",
        body: JSON.stringify({ model: "gpt-5.5", input: "x", stream: true }),
      });
      const events = await readSse(response);
      const metadata = events.find((event) => event.event === "response.metadata");
      expect(JSON.parse(metadata!.data).headers["x-codex-turn-state"]).toBeTruthy();
    } finally {
      await local.close();
      await extras.close();
    }
  });

  const failures: [string, string, RegExp][] = [
    ["fake:early-close", "upstream_disconnected", /closed the stream before the response completed/],
    ["fake:connection-reset", "upstream_disconnected", /broke|closed/],
    ["fake:in-stream-error", "server_is_overloaded", /overloaded/],
    ["fake:response-failed", "server_error", /failed to generate/],
    ["fake:silent", "upstream_idle_timeout", /sent nothing for 2 s/],
  ];
  for (const [model, code, message] of failures) {
    it(`${model} ends with exactly one response.failed (${code})`, async () => {
      const events = await streamEvents(model);
      expect(terminals(events)).toHaveLength(1);
      const last = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
      expect(last.type).toBe("response.failed");
      expect(last.response.error?.code).toBe(code);
      expect(last.response.error?.message).toMatch(message);
    });
  }

  it("keeps a silent upstream's client alive with SSE comments, then cancels the upstream", async () => {
    const response = await fetch(`${gateway.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${gatewayKey}` },
      body: JSON.stringify({ model: "fake:silent", input: "x", stream: true }),
    });
    const text = await response.text();
    expect(text.match(/^: keepalive$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(text).toContain("event: response.failed");
    await waitFor(() => upstream.requests.at(-1)?.clientAborted === true);
  });

  it("cancels the upstream request when the client disconnects", async () => {
    const abort = new AbortController();
    const response = await fetch(`${gateway.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${gatewayKey}` },
      body: JSON.stringify({ model: "fake:silent", input: "x", stream: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await waitFor(() => upstream.requests.at(-1)?.clientAborted === true);
  });
});

describe("non-streaming", () => {
  it("returns the final response object, streamed from the upstream", async () => {
    const response = await client.responses.create({ model: "gpt-5.5", input: "plain please" });
    expect(response.output_text).toBe("fake reply to: plain please");
    expect(upstream.requests.at(-1)!.body.stream).toBe(true);
  });

  it("rebuilds output from output_item.done when the upstream's final output is empty", async () => {
    const response = await client.responses.create({ model: "fake:empty-output", input: "rebuild" });
    expect(response.output.length).toBeGreaterThan(0);
    expect(response.output_text).toContain("rebuild");
  });

  it("turns an in-stream failure into an HTTP error", async () => {
    await expect(client.responses.create({ model: "fake:in-stream-error", input: "x" })).rejects.toMatchObject({
      status: 503,
      code: "server_is_overloaded",
    });
    await expect(client.responses.create({ model: "fake:early-close", input: "x" })).rejects.toMatchObject({ status: 502 });
  });
});

describe("upstream errors before the first byte", () => {
  it("429 keeps its status, Retry-After and the x-codex rate-limit headers", async () => {
    const error = await client.responses.create({ model: "fake:rate-limited", input: "x", stream: true }).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(429);
    expect(error.headers.get("retry-after")).toBe("120");
    expect(error.headers.get("x-codex-primary-used-percent")).toBe("100");
    expect(error.headers.get("x-codex-primary-reset-after-seconds")).toBe("120");
    expect(error.error).toMatchObject({ type: "usage_limit_reached", message: "The usage limit has been reached" });
  });

  it("500 keeps its status and OpenAI body", async () => {
    await expect(client.responses.create({ model: "fake:server-error", input: "x", stream: true })).rejects.toMatchObject({
      status: 500,
      code: "server_error",
    });
  });

  it("normalises FastAPI {detail} bodies", async () => {
    const response = await fetch(`${gateway.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${gatewayKey}` },
      body: JSON.stringify({ model: "fake:fastapi-detail", input: "x", stream: true }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { message: "Store must be set to false", type: "invalid_request_error", param: null, code: null },
    });
  });

  it("an upstream that cannot be reached is a 502 in OpenAI shape", async () => {
    const local = await startGateway({ UPSTREAM_URL: "http://127.0.0.1:9/v1" });
    try {
      const response = await fetch(`${local.url}/v1/responses`, { method: "POST", body: JSON.stringify({ model: "m", input: "x" }) });
      expect(response.status).toBe(502);
      expect((await response.json()).error.code).toBe("upstream_unreachable");
    } finally {
      await local.close();
    }
  });
});

describe("bad input and auth", () => {
  const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${gatewayKey}` }) =>
    fetch(`${gateway.url}/v1/responses`, { method: "POST", headers, body });

  it.each([
    ["not json", "{", 400, /not valid JSON/],
    ["an array", "[1,2]", 400, /must be a JSON object/],
    ["no model", '{"input":"x"}', 400, /'model' is required/],
    ["bad input type", '{"model":"m","input":5}', 400, /'input' must be/],
  ])("%s → %s with an OpenAI error", async (_, body, status, message) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    const json = await response.json();
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.message).toMatch(message);
  });

  it("a body over the limit → 413", async () => {
    const response = await post(JSON.stringify({ model: "m", input: "x".repeat(5 * 1024 * 1024) }));
    expect(response.status).toBe(413);
    expect((await response.json()).error.message).toMatch(/MAX_BODY_BYTES/);
  });

  it("a wrong or missing key → 401; x-api-key works too", async () => {
    expect((await post('{"model":"m"}', { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await post('{"model":"m"}', {})).status).toBe(401);
    expect((await post('{"model":"m","input":"x"}', { "x-api-key": gatewayKey })).status).toBe(200);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it("an upstream that refuses the gateway's credential is a 502 that blames no client key and shows no masked key", async () => {
    const response = await post(JSON.stringify({ model: "fake:unauthorized", input: "x" }));
    const text = await response.text();
    expect(response.status).toBe(502);
    expect(JSON.parse(text).error).toMatchObject({ type: "server_error", code: "upstream_authentication_failed" });
    expect(text).not.toContain(upstreamKey);
    // The provider's message names a masked key ("sk-fake***"): it reaches the log, not the client.
    expect(text).not.toContain("sk-fake");
    expect(text).not.toContain("invalid_api_key");
  });
});

describe("routes", () => {
  it.each(["/v1/responses", "/responses", "/backend-api/codex/responses"])("%s serves the same stream", async (path) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${gatewayKey}` },
      body: JSON.stringify({ model: "gpt-5.5", input: "route", stream: true }),
    });
    const events = await readSse(response);
    expect(events.at(-1)!.event).toBe("response.completed");
  });

  it("forwards /responses/compact as JSON", async () => {
    const response = await fetch(`${gateway.url}/v1/responses/compact`, {
      method: "POST",
      headers: { authorization: `Bearer ${gatewayKey}` },
      body: JSON.stringify({ model: "gpt-5.5", input: [{ role: "user", content: "long history" }] }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).output[0].content[0].text).toBe("compacted");
  });

  it("lists the upstream's models", async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain("gpt-5.5");
  });
});

it("a stateless body that needs no change goes upstream as its own bytes (spacing and non-ASCII text kept)", async () => {
  const text = `{ "model": "gpt-5.5",\n  "stream": true,  "input": "h\u00e9llo \u2014 \u2603 caf\u00e9" }`;
  const response = await fetch(`${gateway.url}/v1/responses`, { method: "POST", headers: { authorization: `Bearer ${gatewayKey}`, "content-type": "application/json" }, body: text });
  expect((await readSse(response)).at(-1)!.event).toBe("response.completed");
  const received = upstream.requests.at(-1)!;
  expect(received.bytes).toBe(new TextEncoder().encode(text).length);
  expect(received.body.input).toBe("h\u00e9llo \u2014 \u2603 caf\u00e9");
});

describe("captured Codex requests, stateless (session headers removed)", () => {
  const fixtures = new URL("../fixtures/clients/", import.meta.url);
  const files = readdirSync(fixtures).filter((name) => /^codex-http-.*\.json$/.test(name));

  it.each(files)("%s streams through unchanged", async (file) => {
    const capture = JSON.parse(readFileSync(new URL(file, fixtures), "utf8"));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(capture.headers as Record<string, string>)) {
      if (!["host", "content-length", "content-encoding", "connection", "accept-encoding", "session-id", "thread-id"].includes(name)) headers[name] = value;
    }
    headers.authorization = `Bearer ${gatewayKey}`;
    // Without a session header or prompt_cache_key the request takes the stateless path.
    const { prompt_cache_key: _key, ...body } = capture.body;
    const text = JSON.stringify(body);
    const response = await fetch(`${gateway.url}/v1/responses`, { method: "POST", headers, body: text });
    const events = await readSse(response);
    expect(events.at(-1)!.event).toBe("response.completed");
    const received = upstream.requests.at(-1)!;
    expect(received.bytes).toBe(new TextEncoder().encode(text).length); // forwarded as sent
    expect(received.headers["x-codex-window-id"]).toBe(capture.headers["x-codex-window-id"]);
    expect(received.headers["x-codex-turn-metadata"]).toBe(capture.headers["x-codex-turn-metadata"]);
    expect(received.headers.authorization).toBe(`Bearer ${upstreamKey}`);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
