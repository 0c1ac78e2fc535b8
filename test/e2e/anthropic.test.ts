// Anthropic Messages through the gateway with the official `@anthropic-ai/sdk`, served by the
// fake Responses upstream: text, tools, thinking, images, non-streaming, errors, sessions.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { capturedRequest } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startGateway, type Gateway } from "../support/start-gateway";

const key = "gw-anthropic-key-0123456789";
let upstream: FakeUpstream;
let gateway: Gateway;
let client: Anthropic;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up-secret-000000", GATEWAY_KEYS: key });
  client = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const lastResponsesRequest = () => upstream.requests.filter((request) => request.method === "POST" || request.method === "WS").at(-1)!;

describe("streaming and non-streaming", () => {
  it("streams a text answer the SDK accumulates into a complete message", async () => {
    const stream = client.messages.stream({ model: "claude-opus-4-8", max_tokens: 1000, messages: [{ role: "user", content: "hello there" }] });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "fake reply to: hello there" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.model).toBe("claude-opus-4-8");
    expect(lastResponsesRequest().body.model).toBe("gpt-5.5");
    // Usage in Anthropic's meaning: cached tokens are not part of input_tokens.
    const upstreamUsage = { input: 0, cached: 0 };
    expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(upstreamUsage.input);
    expect(message.usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it("answers non-streaming requests with the same complete message", async () => {
    const message = await client.messages.create({ model: "claude-opus-4-8", max_tokens: 1000, messages: [{ role: "user", content: "plain" }] });
    expect(message.content).toEqual([{ type: "text", text: "fake reply to: plain" }]);
    expect(message.type).toBe("message");
  });

  it("a tool round trip: tool_use out, tool_result back, the same call id upstream", async () => {
    const tools: Anthropic.Tool[] = [{ name: "exec_command", description: "run", input_schema: { type: "object", properties: { cmd: { type: "string" } } } }];
    upstream.script("function-call");
    const first = await client.messages.stream({ model: "claude-opus-4-8", max_tokens: 1000, tools, messages: [{ role: "user", content: "run it" }] }).finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const toolUse = first.content.find((block) => block.type === "tool_use")!;
    expect(toolUse.input).toEqual({ cmd: "echo hi" });
    const second = await client.messages.create({
      model: "claude-opus-4-8",
      max_tokens: 1000,
      tools,
      messages: [
        { role: "user", content: "run it" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "hi" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    const input = lastResponsesRequest().body.input as { type: string; call_id?: string; output?: string }[];
    expect(input.find((item) => item.type === "function_call")!.call_id).toBe(toolUse.id);
    expect(input.find((item) => item.type === "function_call_output")).toMatchObject({ call_id: toolUse.id, output: "hi" });
  });

  it("thinking maps to reasoning effort, images to input_image", async () => {
    await client.messages.create({
      model: "claude-opus-4-8",
      max_tokens: 20000,
      thinking: { type: "enabled", budget_tokens: 18000 },
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }, { type: "text", text: "what?" }] }],
    });
    const sent = lastResponsesRequest().body;
    expect(sent.reasoning).toEqual({ effort: "high", summary: "auto" });
    expect(sent.include).toEqual(["reasoning.encrypted_content"]);
    expect(sent.input[0].content[0]).toEqual({ type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" });
  });
});

describe("stop sequences, done by the gateway", () => {
  it("cuts the text before the sequence and says which one stopped it, streaming or not", async () => {
    const request = { model: "claude-opus-4-8", max_tokens: 100, stop_sequences: ["STOP", "to:"], messages: [{ role: "user" as const, content: "stop here" }] };
    const streamed = await client.messages.stream(request).finalMessage();
    expect(streamed.content).toEqual([{ type: "text", text: "fake reply " }]);
    expect(streamed).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "to:" });
    const plain = await client.messages.create(request);
    expect(plain.content).toEqual([{ type: "text", text: "fake reply " }]);
    expect(plain).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "to:" });
    // Nothing about stop sequences goes upstream: the Responses API has no such parameter.
    expect(JSON.stringify(lastResponsesRequest().body)).not.toContain("STOP");
  });
});

describe("max_tokens under the Responses floor (Claude Code probes with 1)", () => {
  it("asks the upstream for 16 and cuts the text to the client's limit, streaming or not", async () => {
    const request = { model: "claude-opus-4-8", max_tokens: 2, messages: [{ role: "user" as const, content: "probe" }] };
    const streamed = await client.messages.stream(request).finalMessage();
    expect(lastResponsesRequest().body.max_output_tokens).toBe(16);
    expect(streamed.content).toEqual([{ type: "text", text: "fake reply" }]);
    expect(streamed.stop_reason).toBe("max_tokens");
    // The usage is the upstream's: it generated (and bills) the whole answer.
    expect(streamed.usage.output_tokens).toBeGreaterThan(0);
    const plain = await client.messages.create({ ...request, max_tokens: 1 });
    expect(plain.content).toEqual([{ type: "text", text: "fake" }]);
    expect(plain.stop_reason).toBe("max_tokens");
  });
});

describe("errors in Anthropic's shapes", () => {
  it("429 → rate_limit_error with retry-after", async () => {
    const error = await client.messages.create({ model: "fake:rate-limited", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((caught) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.headers.get("retry-after")).toBe("120");
    expect(error.error).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  });

  it("overloaded before any output → 529 overloaded_error", async () => {
    const error = await client.messages.create({ model: "fake:in-stream-error", max_tokens: 10, messages: [{ role: "user", content: "x" }], stream: true }).catch((caught) => caught);
    expect(error.status).toBe(529);
    expect(error.error.error.type).toBe("overloaded_error");
  });

  it("a failure after output → event: error, and the stream ends", async () => {
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "fake:early-close", max_tokens: 10, stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    const text = await response.text();
    expect(text).toContain("event: message_start");
    expect(text.trim().split("\n\n").at(-1)).toMatch(/^event: error\ndata: .*"type":"api_error"/);
    expect(text).not.toContain("message_stop");
  });

  it("500 → api_error; bad input → invalid_request_error 400; wrong key → authentication_error", async () => {
    await expect(client.messages.create({ model: "fake:server-error", max_tokens: 10, messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 500 });
    const bad = await client.messages.create({ model: "claude-opus-4-8", max_tokens: 10, messages: [{ role: "robot" as "user", content: "x" }] }).catch((caught) => caught);
    expect(bad.status).toBe(400);
    expect(bad.error.error.type).toBe("invalid_request_error");
    const refused = await client.messages.create({ model: "claude-opus-4-8", max_tokens: 10, messages: [{ role: "user", content: "x" }], ...({ top_k: 3 } as object) }).catch((caught) => caught);
    expect(refused.error.error.message).toMatch(/top_k/);
    const anonymous = new Anthropic({ baseURL: gateway.url, apiKey: "wrong", maxRetries: 0 });
    const denied = await anonymous.messages.create({ model: "claude-opus-4-8", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((caught) => caught);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});

describe("Claude Code's requests", () => {
  it("HEAD / answers without a key", async () => {
    expect((await fetch(gateway.url, { method: "HEAD" })).status).toBe(200);
  });

  it("the captured turn streams through, and the session's second turn goes upstream as a delta", async () => {
    const { headers, body } = capturedRequest("claude-messages-turn1.json");
    const sessionId = `claude-${Date.now()}`;
    const post = (payload: unknown) =>
      fetch(`${gateway.url}/v1/messages?beta=true`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01", "anthropic-beta": headers["anthropic-beta"]!, "x-claude-code-session-id": sessionId },
        body: JSON.stringify(payload),
      });
    const first = await post(body);
    expect(first.headers.get("x-turnpike-turn")).toBe("full");
    const firstText = await first.text();
    expect(firstText).toContain("event: message_stop");
    const reply = firstText
      .split("\n")
      .filter((line) => line.includes('"text_delta"'))
      .map((line) => JSON.parse(line.slice("data: ".length)).delta.text as string)
      .join("");
    expect(reply).toBe("fake reply to: say hi");
    const messages = [...(body.messages as unknown[]), { role: "assistant", content: [{ type: "text", text: reply }] }, { role: "user", content: "now say bye" }];
    const second = await post({ ...body, messages });
    expect(await second.text()).toContain("event: message_stop");
    expect(second.headers.get("x-turnpike-turn")).toBe("delta");
    // The translated history is the same text every turn: recognised, not parsed again.
    expect(second.headers.get("x-turnpike-history")).toBe("recognised");
    const sent = lastResponsesRequest();
    expect(sent.body.previous_response_id).toBeTruthy();
    expect(sent.body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "now say bye" }] }]);
  });

  it("count_tokens gives a real count that grows with the request", async () => {
    const { body } = capturedRequest("claude-messages-turn1.json");
    const { stream: _stream, ...request } = body;
    const count = async (payload: unknown) =>
      (await (await fetch(`${gateway.url}/v1/messages/count_tokens`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify(payload) })).json()) as { input_tokens: number };
    const full = await count(request);
    const small = await count({ model: "claude-opus-4-8", messages: [{ role: "user", content: "hi" }] });
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(small.input_tokens).toBeLessThan(20);
    expect(full.input_tokens).toBeGreaterThan(10_000);
    // Counted by the tokenizer Worker (o200k: 8 characters of `x` a token), not estimated (4 a token).
    expect((await count({ model: "claude-opus-4-8", messages: [{ role: "user", content: "x".repeat(4_000) }] })).input_tokens).toBe(504);
    expect(upstream.requests).toHaveLength(0); // never a model call
  });
});
