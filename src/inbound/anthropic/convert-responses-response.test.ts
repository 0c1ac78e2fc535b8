import { describe, expect, it } from "vitest";
import { rechunk, recordedStreams, streamOf, type RecordedStreamName } from "../../../test/workers/support/recorded-streams";
import { aggregateResponse } from "../../streams/aggregate-response";
import { readResponsesEvents } from "../../streams/sse-reader";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { contentBlocksForItem, responseToAnthropicMessage, toolInputFromArguments } from "./convert-responses-response";
import { anthropicUsage } from "./convert-usage";
import { mapStopReason } from "./map-stop-reason";
import { decodeThinkingSignature, encodeThinkingSignature } from "./thinking-signature";

const model = "claude-opus-4-1";

async function finalResponse(name: RecordedStreamName): Promise<Record<string, unknown>> {
  const events = readResponsesEvents(streamOf(rechunk(recordedStreams[name], 5)));
  return aggregateResponse(superviseResponsesEvents(events, { idleTimeoutMs: 5_000 }));
}

async function convertedFixture(name: RecordedStreamName) {
  const message = responseToAnthropicMessage(await finalResponse(name), { model });
  return message as { id: string; content: Record<string, unknown>[]; stop_reason: string; usage: Record<string, number> };
}

describe("responseToAnthropicMessage on recorded responses", () => {
  it("text: the message envelope", async () => {
    const message = await convertedFixture("text");
    expect(message).toMatchObject({
      id: "resp_68c2ae7388fa81928be482b73b1dc455ac0d6f70f12c2d3a",
      type: "message",
      role: "assistant",
      model,
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 27, output_tokens: 41, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    expect(message.content).toEqual([{ type: "text", text: expect.stringMatching(/^The capital of Australia/) }]);
  });

  it("reasoningText: a thinking block whose signature carries the reasoning item", async () => {
    const response = await finalResponse("reasoningText");
    const reasoning = (response.output as Record<string, unknown>[])[0]!;
    const [thinking] = responseToAnthropicMessage(response, { model }).content as Record<string, unknown>[];
    expect(thinking).toMatchObject({ type: "thinking", thinking: expect.stringContaining("= 391.\n\n**Formulating the answer**") });
    expect(decodeThinkingSignature(thinking?.signature)).toEqual({ id: reasoning.id, encryptedContent: reasoning.encrypted_content });
  });

  it("functionCallsParallel: tool_use input equals the parsed arguments, stop tool_use", async () => {
    const response = await finalResponse("functionCallsParallel");
    const calls = (response.output as Record<string, unknown>[]).filter((item) => item.type === "function_call");
    const message = responseToAnthropicMessage(response, { model }) as { content: Record<string, unknown>[]; stop_reason: string };
    const toolUses = message.content.filter((block) => block.type === "tool_use");
    expect(toolUses).toEqual(calls.map((call) => ({ type: "tool_use", id: call.call_id, name: call.name, input: JSON.parse(String(call.arguments)) })));
    expect(message.stop_reason).toBe("tool_use");
  });

  it("refusal, incompleteMaxTokens, webSearch, chatgptEmptyOutput: stop reasons and block types", async () => {
    const cases: [RecordedStreamName, string[], string][] = [
      ["refusal", ["text"], "refusal"],
      ["incompleteMaxTokens", ["text"], "max_tokens"],
      ["webSearch", ["server_tool_use", "web_search_tool_result", "text"], "end_turn"],
      ["chatgptEmptyOutput", ["thinking", "text"], "end_turn"],
    ];
    for (const [name, types, stopReason] of cases) {
      const message = await convertedFixture(name);
      expect(message.content.map((block) => block.type), name).toEqual(types);
      expect(message.stop_reason, name).toBe(stopReason);
    }
  });

  it("chatgptEmptyOutput: cached tokens move out of input_tokens", async () => {
    const message = await convertedFixture("chatgptEmptyOutput");
    expect(message.usage).toEqual({ input_tokens: 301, output_tokens: 187, cache_read_input_tokens: 8832, cache_creation_input_tokens: 0 });
  });
});

describe("content blocks for single items", () => {
  it("skips reasoning with neither summary nor encrypted content, and unknown item types", () => {
    expect(contentBlocksForItem({ id: "rs_1", type: "reasoning", summary: [] })).toEqual([]);
    expect(contentBlocksForItem({ id: "ctc_1", type: "custom_tool_call", name: "apply_patch", input: "…" })).toEqual([]);
    expect(contentBlocksForItem("not an item")).toEqual([]);
  });

  it("keeps a summary without encrypted content, with an empty signature", () => {
    const item = { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "a" }, { type: "summary_text", text: "b" }] };
    expect(contentBlocksForItem(item)).toEqual([{ type: "thinking", thinking: "a\n\nb", signature: "" }]);
  });

  it("a web search action without a query gives no block", () => {
    expect(contentBlocksForItem({ id: "ws_1", type: "web_search_call", action: { type: "open_page", url: "https://example.com" } })).toEqual([]);
  });

  it("tool input: empty arguments are {}, malformed ones are kept raw", () => {
    expect(toolInputFromArguments('{"a":1}')).toEqual({ a: 1 });
    expect(toolInputFromArguments("")).toEqual({});
    expect(toolInputFromArguments('{"a":')).toEqual({ _raw_arguments: '{"a":' });
    expect(toolInputFromArguments("[1]")).toEqual({ _raw_arguments: "[1]" });
  });
});

describe("anthropicUsage", () => {
  it("takes cache reads out of input_tokens", () => {
    const usage = { input_tokens: 5000, input_tokens_details: { cached_tokens: 4096 }, output_tokens: 300, total_tokens: 5300 };
    expect(anthropicUsage(usage)).toEqual({ input_tokens: 904, output_tokens: 300, cache_read_input_tokens: 4096, cache_creation_input_tokens: 0 });
  });

  it("zeros for missing or malformed usage", () => {
    const zeros = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    expect(anthropicUsage(undefined)).toEqual(zeros);
    expect(anthropicUsage(null)).toEqual(zeros);
    expect(anthropicUsage({ input_tokens: "12" })).toEqual(zeros);
  });

  it("never reports negative input when cached exceeds the total", () => {
    expect(anthropicUsage({ input_tokens: 10, input_tokens_details: { cached_tokens: 20 } })).toMatchObject({ input_tokens: 0, cache_read_input_tokens: 10 });
  });
});

describe("mapStopReason", () => {
  const message = (part: Record<string, unknown>) => ({ type: "message", content: [part] });
  it("maps each case", () => {
    expect(mapStopReason({ status: "completed", output: [message({ type: "output_text", text: "hi" })] })).toBe("end_turn");
    expect(mapStopReason({ status: "completed", output: [{ type: "function_call", status: "completed" }] })).toBe("tool_use");
    expect(mapStopReason({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [] })).toBe("max_tokens");
    expect(mapStopReason({ status: "incomplete", incomplete_details: { reason: "content_filter" }, output: [] })).toBe("refusal");
    expect(mapStopReason({ status: "completed", output: [message({ type: "refusal", refusal: "no" })] })).toBe("refusal");
    expect(mapStopReason({ status: "completed", output: [] }, "\n\nHuman:")).toBe("stop_sequence");
    expect(mapStopReason(undefined)).toBe("end_turn");
  });

  it("a call cut off by the token limit is max_tokens, not tool_use", () => {
    const response = { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [{ type: "function_call", status: "incomplete" }] };
    expect(mapStopReason(response)).toBe("max_tokens");
  });
});

describe("thinking signatures", () => {
  it("round-trip, including long and non-ASCII content", () => {
    const signature = { id: "rs_123", encryptedContent: `gAAAAAB${"x".repeat(100_000)}—é` };
    const encoded = encodeThinkingSignature(signature);
    expect(encoded).toMatch(/^tpk1\.[A-Za-z0-9_-]+$/);
    expect(decodeThinkingSignature(encoded)).toEqual(signature);
  });

  it("anything not made here decodes to undefined", () => {
    const notOurs = [
      undefined,
      42,
      "",
      "ErUBCkYIBBgCIkB…", // a genuine Anthropic signature
      "tpk1.",
      "tpk1.!!!!",
      `tpk1.${btoa("not json").replace(/=+$/, "")}`,
      `tpk1.${btoa(JSON.stringify({ id: 1, encrypted_content: "x" })).replace(/=+$/, "")}`,
      `tpk1.${btoa(JSON.stringify(["rs_1", "x"])).replace(/=+$/, "")}`,
      "tpk1./w",
      "tpk1.__8", // bytes that are not UTF-8
    ];
    for (const signature of notOurs) expect(decodeThinkingSignature(signature), String(signature)).toBeUndefined();
  });
});
