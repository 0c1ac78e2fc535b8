// Chat Completions through the gateway with the official `openai` SDK, served
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

const lastResponsesRequest = () => upstream.requests.filter((request) => request.method === "POST" || request.method === "WS").at(-1)!;
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

  it("a tool round trip with no session header: the session is derived, and later turns go upstream as deltas", async () => {
    upstream.script("function-call");
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "system", content: "You run commands." }, { role: "user", content: "run it" }];
    const first = await client.chat.completions.create({ model: "gpt-5.5", tools, messages }).withResponse();
    expect(first.data.choices[0]!.finish_reason).toBe("tool_calls");
    expect(first.response.headers.get("x-turnpike-turn")).toBe("full");
    const call = first.data.choices[0]!.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error("expected a function call");
    expect(call.function).toEqual({ name: "exec_command", arguments: '{"cmd":"echo hi"}' });
    messages.push(first.data.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "hi" });
    const second = await client.chat.completions.create({ model: "gpt-5.5", tools, messages }).withResponse();
    expect(second.response.headers.get("x-turnpike-turn")).toBe("delta");
    const sent = lastResponsesRequest().body;
    expect(sent.previous_response_id).toBeTruthy();
    expect(sent.input).toEqual([{ type: "function_call_output", call_id: call.id, output: "hi" }]);
    expect((sent.tools as Record<string, unknown>[])[0]).toMatchObject({ type: "function", name: "exec_command", strict: false });
    messages.push(second.data.choices[0]!.message, { role: "user", content: "thanks" });
    const third = await client.chat.completions.create({ model: "gpt-5.5", tools, messages }).withResponse();
    expect(third.response.headers.get("x-turnpike-turn")).toBe("delta");
    expect(lastResponsesRequest().body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "thanks" }] }]);
  });

  it("reasoning the client never sees stays with the provider: the next turn is still a delta", async () => {
    upstream.script("reasoning");
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "think about it" }];
    const first = await client.chat.completions.create({ model: "gpt-5.5", reasoning_effort: "medium", messages });
    expect(lastResponsesRequest().body.include).toEqual(["reasoning.encrypted_content"]);
    messages.push(first.choices[0]!.message, { role: "user", content: "and then?" });
    const second = await client.chat.completions.create({ model: "gpt-5.5", reasoning_effort: "medium", messages }).withResponse();
    expect(second.response.headers.get("x-turnpike-turn")).toBe("delta");
    expect(lastResponsesRequest().body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "and then?" }] }]);
  });

  it("SESSION_DERIVE=off: a request that names no session goes straight upstream", async () => {
    const local = await startGateway({ UPSTREAM_URL: upstream.url, GATEWAY_KEYS: key, SESSION_DERIVE: "off" });
    try {
      const stateless = new OpenAI({ baseURL: `${local.url}/v1`, apiKey: key, maxRetries: 0 });
      const { response } = await stateless.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "plain" }] }).withResponse();
      expect(response.headers.get("x-turnpike-turn")).toBeNull();
      expect(lastResponsesRequest().method).toBe("POST");
    } finally {
      await local.close();
    }
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
