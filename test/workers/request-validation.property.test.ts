// Properties of request validation on every route, through the Worker itself (with the
// in-process mock upstream): whatever a client sends — any JSON value, valid requests with
// generated damage, bytes that are not JSON or not UTF-8, wrong content types and encodings —
// the answer is a 2xx or a 4xx, never a 5xx; a 4xx carries a JSON error in the route's own shape;
// a 2xx stream ends with exactly one terminal event of its protocol; and nothing is logged as an
// unhandled error. A WebSocket `response.create` frame gets a turn that ends with one terminal
// event, or a 4xx error frame.
//
// Cases call the Worker's fetch handler (src/index.ts) with the test environment — its Durable
// Objects and all — and an execution context: in @cloudflare/vitest-pool-workers 0.15 every call
// through the runtime (`exports.default.fetch`, `SELF`) costs more than the last (about +2 ms per
// earlier call, even for GET /health), which would make hundreds of cases per route take minutes.
// A sample of cases, and the WebSocket upgrade, go through the runtime itself.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { fuzzParameters, fuzzTimeout } from "./support/fuzz";
import { bytesOf, damage, damaged, hostileBytes, jsonValue, truncated } from "./support/hostile-json";
import { messagesRequest } from "./support/messages-arbitrary";
import gateway from "../../src/index";

const runtime = (exports as unknown as { default: Fetcher }).default;
const encoder = new TextEncoder();

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary JSON
type Json = any;

// --- Valid requests per route, to be damaged --------------------------------------------------

const text = fc.oneof(fc.constantFrom("hi", "run ls", "call Bash", ""), fc.string({ maxLength: 8 }));
const responsesItem = fc.oneof(
  fc.record({ role: fc.constantFrom("user", "developer", "assistant"), content: text }),
  fc.record({ type: fc.constant("message"), role: fc.constant("user"), content: fc.array(fc.record({ type: fc.constant("input_text"), text }), { minLength: 1, maxLength: 2 }) }),
  fc.record({ type: fc.constant("function_call"), call_id: fc.constant("call_1"), name: fc.constant("shell"), arguments: fc.constant('{"command":["ls"]}') }),
  fc.record({ type: fc.constant("function_call_output"), call_id: fc.constant("call_1"), output: text }),
  fc.record({ type: fc.constant("reasoning"), id: fc.constant("rs_1"), summary: fc.constant([]), encrypted_content: fc.constant("enc") }),
);
const responsesRequest = fc.record(
  {
    model: fc.constantFrom("gpt-5.5", "gpt-5.5-mini"),
    input: fc.oneof(text, fc.array(responsesItem, { maxLength: 4 })),
    stream: fc.boolean(),
    instructions: text,
    tools: fc.constantFrom([{ type: "function", name: "shell", parameters: { type: "object", properties: {} } }], []),
    reasoning: fc.constantFrom({ effort: "low", summary: "auto" }, null),
    store: fc.boolean(),
    previous_response_id: fc.constantFrom("resp_unknown", null),
    prompt_cache_key: fc.constantFrom("fuzz-cache-key"),
    generate: fc.boolean(),
  },
  { requiredKeys: ["model"] },
);
const chatRequest = fc.record(
  {
    model: fc.constantFrom("gpt-5.5", "gpt-5.5-mini"),
    messages: fc.array(
      fc.oneof(
        fc.record({ role: fc.constantFrom("system", "user", "developer"), content: text }),
        fc.record({ role: fc.constant("assistant"), content: fc.option(text), tool_calls: fc.constant([{ id: "call_1", type: "function", function: { name: "bash", arguments: '{"command":"ls"}' } }]) }, { requiredKeys: ["role"] }),
        fc.record({ role: fc.constant("tool"), tool_call_id: fc.constant("call_1"), content: text }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    stream: fc.boolean(),
    stream_options: fc.record({ include_usage: fc.boolean() }),
    tools: fc.constant([{ type: "function", function: { name: "bash", parameters: { type: "object", properties: { command: { type: "string" } } } } }]),
    max_tokens: fc.integer({ min: 1, max: 40 }),
    stop: fc.oneof(text, fc.array(text, { maxLength: 2 })),
    reasoning_effort: fc.constantFrom("low", "none"),
    tool_choice: fc.constantFrom("auto", { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: "bash" } }] } }),
    n: fc.constantFrom(1, 2),
  },
  { requiredKeys: ["model", "messages"] },
);

// --- Routes -----------------------------------------------------------------------------------

type Shape = "openai" | "anthropic";
type Protocol = "responses" | "anthropic" | "chat";

interface Route {
  name: string;
  path: string;
  shape: Shape;
  protocol: Protocol;
  valid: fc.Arbitrary<unknown>;
  /** Fields every damaged request of this route keeps (stream on or off). */
  fixed?: Record<string, unknown>;
  headers?: fc.Arbitrary<Record<string, string>>;
}

const sessionHeader = (name: string) => fc.constantFrom("fuzz-a", "fuzz-b", "fuzz-c").map((id) => ({ [name]: id }));

const routes: Route[] = [
  { name: "POST /v1/responses, stream", path: "/v1/responses", shape: "openai", protocol: "responses", valid: responsesRequest, fixed: { stream: true } },
  { name: "POST /v1/responses, stream: false", path: "/v1/responses", shape: "openai", protocol: "responses", valid: responsesRequest, fixed: { stream: false } },
  { name: "POST /v1/responses in a session, stream", path: "/v1/responses", shape: "openai", protocol: "responses", valid: responsesRequest, fixed: { stream: true }, headers: sessionHeader("session-id") },
  { name: "POST /v1/responses in a session, stream: false", path: "/v1/responses", shape: "openai", protocol: "responses", valid: responsesRequest, fixed: { stream: false }, headers: sessionHeader("session-id") },
  { name: "POST /v1/responses/compact", path: "/v1/responses/compact", shape: "openai", protocol: "responses", valid: responsesRequest },
  { name: "POST /v1/messages", path: "/v1/messages", shape: "anthropic", protocol: "anthropic", valid: messagesRequest },
  { name: "POST /v1/messages in a session", path: "/v1/messages", shape: "anthropic", protocol: "anthropic", valid: messagesRequest, headers: sessionHeader("x-claude-code-session-id") },
  { name: "POST /v1/messages/count_tokens", path: "/v1/messages/count_tokens", shape: "anthropic", protocol: "anthropic", valid: messagesRequest },
  { name: "POST /v1/chat/completions", path: "/v1/chat/completions", shape: "openai", protocol: "chat", valid: chatRequest },
  { name: "POST /v1/chat/completions in a session", path: "/v1/chat/completions", shape: "openai", protocol: "chat", valid: chatRequest, headers: sessionHeader("session-id") },
];

/** What a client may send: a damaged valid request, any JSON, truncated JSON, bytes. */
function bodyFor(route: Route): fc.Arbitrary<string | Uint8Array> {
  const valid = route.valid.map((request) => ({ ...(request as object), ...route.fixed }));
  return fc.oneof(
    { weight: 2, arbitrary: valid.map((request) => JSON.stringify(request)) },
    { weight: 4, arbitrary: fc.tuple(valid, fc.array(damage, { minLength: 1, maxLength: 3 })).map(([request, changes]) => JSON.stringify(changes.reduce<unknown>((value, change) => damaged(value, change), request)) ?? "") },
    { weight: 2, arbitrary: jsonValue.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat()).map(([request, at]) => truncated(JSON.stringify(request), at)) },
    { weight: 1, arbitrary: hostileBytes },
  );
}

/** Content types and encodings a client may get wrong (a body the gateway cannot decompress, an encoding it does not know). */
const framing = fc.record({
  contentType: fc.constantFrom(undefined, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1"),
  encoding: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, fc.constantFrom("gzip", "gzip-invalid", "deflate", "br", "identity")),
});

async function compressed(bytes: Uint8Array, format: "gzip" | "deflate"): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

type Framing = { contentType: string | undefined; encoding: string | undefined };

/** The answer and its whole body, from the Worker's handler or (`viaRuntime`) through the runtime. */
async function send(route: Route, body: string | Uint8Array, headers: Record<string, string>, frame: Framing, viaRuntime = false): Promise<{ response: Response; text: string }> {
  forgetLogs();
  const all: Record<string, string> = { authorization: "Bearer test-key-1", ...headers };
  if (frame.contentType) all["content-type"] = frame.contentType;
  let payload = bytesOf(body);
  if (frame.encoding === "gzip" || frame.encoding === "deflate") payload = await compressed(payload, frame.encoding);
  if (frame.encoding) all["content-encoding"] = frame.encoding === "gzip-invalid" ? "gzip" : frame.encoding;
  const request = new Request(`http://gateway.test${route.path}`, { method: "POST", headers: all, body: payload });
  if (viaRuntime) {
    const response = await runtime.fetch(request);
    return { response, text: await response.text() };
  }
  const context = createExecutionContext();
  const response = await gateway.fetch(request, env as Record<string, unknown>, context);
  const text = await response.text();
  await waitOnExecutionContext(context);
  return { response, text };
}

/** The route's promises for one request and its answer. */
function expectProperAnswer(route: Route, response: Response, text: string): void {
  const status = response.status;
  expect(status >= 200 && status < 300 ? "2xx" : status >= 400 && status < 500 ? "4xx" : `${status}: ${text.slice(0, 300)}`).toMatch(/^[24]xx$/);
  if (status >= 400) {
    expect(response.headers.get("content-type")).toContain("application/json");
    expectErrorShape(route.shape, JSON.parse(text));
  } else {
    expectWholeAnswer(route.protocol, response, text);
  }
  expectNothingUnhandled();
}

/** An SSE body's events: `event:` name (if any) and data, as the gateway writes them. */
function sseEvents(body: string): { event: string | undefined; data: string }[] {
  return body
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .flatMap((frame) => {
      const lines = frame.split("\n");
      const data = lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
      if (data.length === 0) return [];
      const event = lines.find((line) => line.startsWith("event:"))?.slice("event:".length).trim();
      return [{ event, data: data.join("\n") }];
    });
}

const responsesTerminals = new Set(["response.completed", "response.failed", "response.incomplete"]);

/** A successful answer is whole: a JSON body, or a stream with exactly one terminal event, last. */
function expectWholeAnswer(protocol: Protocol, response: Response, body: string): void {
  if (!response.headers.get("content-type")?.includes("text/event-stream")) {
    JSON.parse(body);
    return;
  }
  const events = sseEvents(body);
  expect(events.length).toBeGreaterThan(0);
  if (protocol === "responses") {
    const types = events.map(({ data }) => (JSON.parse(data) as { type: string }).type);
    expect(types.filter((type) => responsesTerminals.has(type))).toHaveLength(1);
    expect(responsesTerminals.has(types.at(-1)!)).toBe(true);
  } else if (protocol === "anthropic") {
    const names = events.map(({ event }) => event);
    expect(names.filter((name) => name === "message_stop" || name === "error")).toHaveLength(1);
    expect(["message_stop", "error"]).toContain(names.at(-1));
  } else {
    const last = events.at(-1)!.data;
    const done = events.filter(({ data }) => data === "[DONE]");
    if (last === "[DONE]") expect(done).toHaveLength(1);
    else {
      expect(done).toHaveLength(0);
      expect(JSON.parse(last)).toHaveProperty("error");
    }
  }
}

function expectErrorShape(shape: Shape, json: Json): void {
  if (shape === "openai") {
    expect(json).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: expect.toBeOneOf([expect.any(String), null]), code: expect.toBeOneOf([expect.any(String), null]) } });
  } else {
    expect(json).toEqual({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
  }
}

let logged: MockInstance<typeof console.error>;
let quiet: MockInstance<typeof console.log>;
beforeAll(() => {
  // The Worker logs a line per request: kept, to look for "unhandled error", but not printed.
  logged = vi.spyOn(console, "error").mockImplementation(() => {});
  quiet = vi.spyOn(console, "log").mockImplementation(() => {});
});
afterAll(() => {
  logged.mockRestore();
  quiet.mockRestore();
});

/** Each case starts with no log lines, so that one that failed earlier (while shrinking) is not charged to the next. */
function forgetLogs(): void {
  logged.mockClear();
  quiet.mockClear();
}

function expectNothingUnhandled(): void {
  const lines = [...logged.mock.calls, ...quiet.mock.calls].map((call) => call.map(String).join(" "));
  logged.mockClear();
  quiet.mockClear();
  expect(lines.filter((line) => line.includes("unhandled error"))).toEqual([]);
}

describe("every route, whatever the client sends", () => {
  for (const route of routes) {
    it(`${route.name}: a 2xx that ends properly or a 4xx in the route's error shape, never a 5xx`, { timeout: fuzzTimeout(60_000) }, async () => {
      await fc.assert(
        fc.asyncProperty(bodyFor(route), route.headers ?? fc.constant({}), framing, async (body, headers, frame) => {
          const { response, text } = await send(route, body, headers, frame);
          expectProperAnswer(route, response, text);
        }),
        fuzzParameters(300, 0.05),
      );
    });
  }

  it("through the runtime itself (exports.default.fetch), a sample across the routes", { timeout: fuzzTimeout(60_000) }, async () => {
    const routed = fc.constantFrom(...routes).chain((route) => fc.tuple(fc.constant(route), bodyFor(route), route.headers ?? fc.constant({}), framing));
    await fc.assert(
      fc.asyncProperty(routed, async ([route, body, headers, frame]) => {
        const { response, text } = await send(route, body, headers, frame, true);
        expectProperAnswer(route, response, text);
      }),
      // Runtime calls slow down one after another (see the top of this file): few, always.
      { ...fuzzParameters(60), numRuns: 60 },
    );
  });
});

// --- The WebSocket --------------------------------------------------------------------------

class Socket {
  readonly frames: Json[] = [];
  #waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: WebSocket) {
    socket.accept();
    socket.addEventListener("message", (event) => {
      this.frames.push(JSON.parse(String(event.data)));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.addEventListener("close", () => {
      this.closed = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<Socket> {
    const response = await runtime.fetch("http://gateway.test/v1/responses", { headers: { upgrade: "websocket", authorization: "Bearer test-key-1" } });
    expect(response.status).toBe(101);
    return new Socket(response.webSocket!);
  }

  /** The frames one message gets: up to an error frame or a terminal event. */
  async turn(message: string | ArrayBuffer): Promise<Json[]> {
    const start = this.frames.length;
    this.socket.send(message);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const frames = this.frames.slice(start).filter((frame) => frame.type !== "turnpike:keepalive");
      if (frames.some((frame) => frame.type === "error" || responsesTerminals.has(frame.type))) return frames;
      if (this.closed) throw new Error("the gateway closed the socket");
      if (Date.now() > deadline) throw new Error(`no terminal event or error frame within 10 s: ${JSON.stringify(frames).slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

const frameText = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(responsesRequest, fc.array(damage, { maxLength: 2 })).map(([request, changes]) => JSON.stringify(changes.reduce<unknown>((value, change) => damaged(value, change), { type: "response.create", ...request })) ?? "") },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("response.create", "response.append", "response.cancel", "session.update"), jsonValue).map(([type, value]) => JSON.stringify(typeof value === "object" && value !== null && !Array.isArray(value) ? { ...value, type } : { type, input: value })) },
  { weight: 1, arbitrary: jsonValue.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
);
const frame = fc.oneof({ weight: 6, arbitrary: frameText }, { weight: 1, arbitrary: hostileBytes.map((bytes) => bytes.slice().buffer) });


async function everyFrameAnswered(frames: fc.Arbitrary<string | ArrayBuffer>, parameters: fc.Parameters<[string | ArrayBuffer]>): Promise<void> {
  let socket = await Socket.open();
  await fc.assert(
    fc.asyncProperty(frames, async (message) => {
      if (socket.closed) socket = await Socket.open();
      forgetLogs();
      const answered = await socket.turn(message);
      const last = answered.at(-1)!;
      if (last.type === "error") {
        expect(answered).toHaveLength(1);
        expect(last.status).toBeGreaterThanOrEqual(400);
        expect(last.status).toBeLessThan(500);
        expect(last.error).toEqual({ message: expect.any(String), type: expect.any(String), param: expect.toBeOneOf([expect.any(String), null]), code: expect.toBeOneOf([expect.any(String), null]) });
      } else {
        expect(answered.filter((event) => responsesTerminals.has(event.type))).toHaveLength(1);
      }
      expect(socket.closed).toBe(false);
      expectNothingUnhandled();
    }),
    parameters,
  );
  socket.socket.close(1000);
}

describe("a client WebSocket, whatever the client sends", () => {
  // Found by this property: {"type":[{"toString":0}],"model":"gpt-5.5","input":""} got a 500
  // error frame (its refusal named the type with String(type), which throws for such an object).
  it("each message gets a turn ending in exactly one terminal event, or a 4xx error frame; the socket stays open", { timeout: fuzzTimeout(60_000) }, async () => {
    await everyFrameAnswered(frame, fuzzParameters(300, 0.02));
  });

  // One fixed case: `npm run fuzz` does not multiply it (2,000 sends of the same frame outran the test's timeout).
  it("a message whose type is an object that cannot be made text gets a 400 error frame", async () => {
    await everyFrameAnswered(fc.constant('{"type":[{"toString":0}],"model":"gpt-5.5","input":""}'), { numRuns: 1 });
  });
});
