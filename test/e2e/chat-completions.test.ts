// Chat Completions through the gateway (stateless route) with the official `openai` SDK, served
// by the fake Responses upstream: text, usage, tools, structured output, images, the gateway's own
// cuts, and failures before and after the first byte.
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startGateway, type Gateway } from "../support/start-gateway";

const key = "gw-chat-key-0123456789";
let upstream: FakeUpstream;
let gateway: Gateway;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up-secret-000000", GATEWAY_KEYS: key });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const lastResponsesRequest = () => upstream.requests.filter((request) => request.method === "POST").at(-1)!;
const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "exec_command", description: "run", parameters: { type: "object", properties: { cmd: { type: "string" } } } } }];

describe("answers", () => {
  it("streams text with a final usage chunk and [DONE]", async () => {
    const stream = client.chat.completions.stream({ model: "gpt-5.5", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello there" }], stream_options: { include_usage: true } });
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", message: { role: "assistant", content: "fake reply to: hello there" } });
    expect(completion.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), prompt_tokens_details: { cached_tokens: expect.any(Number) } });
    expect(completion.model).toBe("gpt-5.5");
    expect(lastResponsesRequest().body).toMatchObject({ instructions: "Be brief.", stream: true, store: false });
  });

  it("answers stream: false with a chat.completion", async () => {
    const completion = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "plain" }] });
    expect(completion).toMatchObject({ object: "chat.completion", id: expect.stringMatching(/^chatcmpl-/), choices: [{ message: { content: "fake reply to: plain" }, finish_reason: "stop" }] });
  });

  it("a tool round trip: tool_calls out, the tool message back with the same call id upstream", async () => {
    upstream.script("function-call");
    const first = await client.chat.completions.stream({ model: "gpt-5.5", tools, messages: [{ role: "user", content: "run it" }] }).finalChatCompletion();
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    const call = first.choices[0]!.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error("expected a function call");
    expect(call.function).toEqual({ name: "exec_command", arguments: '{"cmd":"echo hi"}' });
    await client.chat.completions.create({
      model: "gpt-5.5",
      tools,
      messages: [{ role: "user", content: "run it" }, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "hi" }],
    });
    const input = lastResponsesRequest().body.input as Record<string, unknown>[];
    expect(input.slice(-2)).toEqual([
      { type: "function_call", call_id: call.id, name: "exec_command", arguments: '{"cmd":"echo hi"}' },
      { type: "function_call_output", call_id: call.id, output: "hi" },
    ]);
    expect((lastResponsesRequest().body.tools as Record<string, unknown>[])[0]).toMatchObject({ type: "function", name: "exec_command", strict: false });
  });

  it("json_schema and images reach the upstream as text.format and input_image", async () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    await client.chat.completions.create({
      model: "gpt-5.5",
      response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } },
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }, { type: "text", text: "what is it" }] }],
    });
    expect(lastResponsesRequest().body).toMatchObject({
      text: { format: { type: "json_schema", name: "answer", schema, strict: true } },
      input: [{ role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" }, { type: "input_text", text: "what is it" }] }],
    });
  });

  it("max_tokens: 1 asks the upstream for 16 and cuts the answer to one token: length", async () => {
    const completion = await client.chat.completions.create({ model: "gpt-5.5", max_tokens: 1, messages: [{ role: "user", content: "hello" }] });
    expect(lastResponsesRequest().body.max_output_tokens).toBe(16);
    expect(completion.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "fake" } });
  });

  it("stop sequences are done by the gateway", async () => {
    const completion = await client.chat.completions.create({ model: "gpt-5.5", stop: [" to"], messages: [{ role: "user", content: "hello" }] });
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: "fake reply" } });
    expect(lastResponsesRequest().body).not.toHaveProperty("stop");
  });
});

describe("failures", () => {
  it("a field without an equivalent is a 400 naming it, before any upstream call", async () => {
    const error = await client.chat.completions.create({ model: "gpt-5.5", n: 2, messages: [{ role: "user", content: "x" }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: "n", type: "invalid_request_error" });
    expect(upstream.requests.filter((request) => request.method === "POST")).toHaveLength(0);
  });

  it("a rate limit before the first byte keeps its status", async () => {
    upstream.script("rate-limited");
    const error = await client.chat.completions.create({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "x" }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("an in-stream error before any output is an HTTP error with the status its code implies", async () => {
    upstream.script("in-stream-error");
    const error = await client.chat.completions.create({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "x" }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 503, code: "server_is_overloaded" });
  });

  it("a stream cut after output ends with an error chunk the SDK raises, and no [DONE]", async () => {
    upstream.script("early-close");
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "hello there" }] }),
    });
    const text = await response.text();
    expect(text).toContain('"code":"upstream_disconnected"');
    expect(text).not.toContain("[DONE]");
    upstream.script("early-close");
    const stream = client.chat.completions.stream({ model: "gpt-5.5", messages: [{ role: "user", content: "hello there" }] });
    const error = await stream.finalChatCompletion().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ code: "upstream_disconnected", type: "server_error" });
  });
});
