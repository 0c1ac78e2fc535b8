import { describe, expect, it } from "vitest";
import { recordedStreams, streamOf, type RecordedStreamName } from "../../../test/workers/support/recorded-streams";
import { aggregateResponse } from "../../streams/aggregate-response";
import { GatewayError } from "../../errors/gateway-error";
import { readResponsesEvents } from "../../streams/sse-reader";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { chatCompletionObject } from "./chat-completion-answer";
import { chatCompletionId, responseToChatCompletion } from "./convert-responses-response";
import { chatUsage } from "./convert-usage";
import { mapFinishReason } from "./map-finish-reason";

const model = "gpt-5.5";

function events(name: RecordedStreamName) {
  const encoded = new TextEncoder().encode(recordedStreams[name]);
  return superviseResponsesEvents(readResponsesEvents(streamOf([encoded])), { idleTimeoutMs: 5_000 });
}

type Message = { content: string | null; refusal: string | null; reasoning_content?: string; tool_calls?: unknown[]; annotations?: unknown[] };
async function completion(name: RecordedStreamName): Promise<{ message: Message; finish_reason: string; body: Record<string, unknown> }> {
  const body = responseToChatCompletion(await aggregateResponse(events(name)), { model });
  const choice = (body.choices as { message: Message; finish_reason: string }[])[0]!;
  return { ...choice, body };
}

describe("recorded responses → chat.completion", () => {
  it("text: the whole object", async () => {
    const { body } = await completion("text");
    expect(body).toEqual({
      id: "chatcmpl-68c2ae7388fa81928be482b73b1dc455ac0d6f70f12c2d3a",
      object: "chat.completion",
      created: 1757589107,
      model,
      choices: [{ index: 0, logprobs: null, finish_reason: "stop", message: { role: "assistant", content: expect.stringMatching(/^The capital of Australia/), refusal: null } }],
      usage: { prompt_tokens: 27, completion_tokens: 41, total_tokens: 68, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
  });

  it("reasoningText: reasoning_content from both summary parts", async () => {
    const { message } = await completion("reasoningText");
    expect(message.reasoning_content).toMatch(/^\*\*Checking divisibility of 391\*\*\n\n.*\n\n\*\*Formulating the answer\*\*\n\n/s);
    expect(message.content).toMatch(/^No — 391 is not prime/);
  });

  it("functionCallsParallel: content null, two tool calls, tool_calls; a reasoning item without summary gives no reasoning_content", async () => {
    const { message, finish_reason } = await completion("functionCallsParallel");
    expect(message.content).toBeNull();
    expect(message.tool_calls).toHaveLength(2);
    expect(message).not.toHaveProperty("reasoning_content");
    expect(finish_reason).toBe("tool_calls");
  });

  it("customToolCall: a custom tool call", async () => {
    const { message, finish_reason } = await completion("customToolCall");
    expect(message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), type: "custom", custom: { name: "apply_patch", input: expect.stringContaining("*** Begin Patch") } }]);
    expect(finish_reason).toBe("tool_calls");
  });

  it("refusal, incomplete, web search", async () => {
    expect(await completion("refusal")).toMatchObject({ finish_reason: "stop", message: { content: null, refusal: expect.stringMatching(/^I’m sorry/) } });
    expect(await completion("incompleteMaxTokens")).toMatchObject({ finish_reason: "length" });
    const { message } = await completion("webSearch");
    expect(message.annotations).toHaveLength(2);
  });

  it("a failed response throws its GatewayError with the status its code implies", async () => {
    await expect(chatCompletionObject(events("failed"), { model })).rejects.toBeInstanceOf(GatewayError);
    await expect(chatCompletionObject(events("errorEvent"), { model })).rejects.toMatchObject({ status: 503, code: "server_is_overloaded" });
  });
});

describe("pieces", () => {
  it("finish reasons: a complete call wins, an incomplete one is length, content_filter, stop", () => {
    const call = { type: "function_call", status: "completed" };
    expect(mapFinishReason({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [call] })).toBe("tool_calls");
    expect(mapFinishReason({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [{ ...call, status: "incomplete" }] })).toBe("length");
    expect(mapFinishReason({ status: "incomplete", incomplete_details: { reason: "content_filter" } })).toBe("content_filter");
    expect(mapFinishReason({ status: "completed", output: [], stop_sequence: "\n" })).toBe("stop");
    expect(mapFinishReason(null)).toBe("stop");
  });

  it("usage: renamed, nothing subtracted, details bounded by their totals", () => {
    expect(chatUsage({ input_tokens: 100, input_tokens_details: { cached_tokens: 900 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 5 } })).toEqual({
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 5 },
    });
    expect(chatUsage(undefined)).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it("ids: from the response id, random without one", () => {
    expect(chatCompletionId("resp_abc")).toBe("chatcmpl-abc");
    expect(chatCompletionId(undefined)).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
  });
});
