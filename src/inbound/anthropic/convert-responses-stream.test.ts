import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { collect, rechunk, recordedStreams, streamOf, type RecordedStreamName } from "../../../test/workers/support/recorded-streams";
import { aggregateResponse } from "../../streams/aggregate-response";
import { eventFromPayload, type ResponsesEventPayload } from "../../streams/responses-event";
import { eventReaderOf, type EventReader } from "../../streams/event-reader";
import { readResponsesEvents } from "../../streams/sse-reader";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { responseToAnthropicMessage } from "./convert-responses-response";
import { anthropicErrorType, anthropicEventsFromResponses, anthropicPing, encodeAnthropicEvents, type AnthropicEvent } from "./convert-responses-stream";
import { decodeThinkingSignature } from "./thinking-signature";

const model = "claude-sonnet-4-5";
/** Seed and largest chunk: tiny chunks (events split across many reads) up to the whole file at once. */
const chunkings: [number, number][] = [
  [1, 5],
  [7, 64],
  [42, 300],
  [1234, 100_000],
];

function supervised(name: RecordedStreamName, seed: number, maxChunk: number): EventReader {
  const events = readResponsesEvents(streamOf(rechunk(recordedStreams[name], seed, maxChunk)));
  return superviseResponsesEvents(events, { idleTimeoutMs: 5_000 });
}

async function translated(name: RecordedStreamName, seed = 3, maxChunk = 64): Promise<AnthropicEvent[][]> {
  return collect(anthropicEventsFromResponses(supervised(name, seed, maxChunk), { model }));
}

async function translatedBatches(batches: ResponsesEventPayload[][]): Promise<AnthropicEvent[]> {
  const input = batches.map((batch) => batch.map((payload) => eventFromPayload({ ...payload, type: String(payload.type) })));
  return (await collect(anthropicEventsFromResponses(eventReaderOf(input), { model }))).flat();
}

type Accumulated = { message: Anthropic.Message } | { error: APIError };

/**
 * The events as the official SDK sees them: encoded as SSE (one write per batch, a ping between
 * batches, which clients must skip), parsed and accumulated by `client.messages.stream()`.
 */
async function accumulate(batches: AnthropicEvent[][]): Promise<Accumulated> {
  const chunks = batches.map((batch, position) => encodeAnthropicEvents(position === 0 ? batch : [anthropicPing, ...batch]));
  const fetch = async () => new Response(streamOf(chunks), { headers: { "content-type": "text/event-stream" } });
  const client = new Anthropic({ apiKey: "test", maxRetries: 0, fetch });
  const stream = client.messages.stream({ model, max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
  try {
    return { message: await stream.finalMessage() };
  } catch (error) {
    if (error instanceof APIError) return { error };
    throw error;
  }
}

/** What a client can observe: plain JSON, without the SDK's own `parsed_output` helper field. */
function plain(message: Anthropic.Message): Record<string, unknown> {
  const { parsed_output: _parsedOutput, ...rest } = JSON.parse(JSON.stringify(message)) as Record<string, unknown>;
  return rest;
}

/** message_start first; blocks 0, 1, 2… each started, delta'd and stopped in turn; one terminal last. */
function expectWellFormed(events: AnthropicEvent[]): void {
  expect(events[0]?.event).toBe("message_start");
  let open: number | undefined;
  let nextIndex = 0;
  let ended = false;
  for (const [position, { event, data }] of events.entries()) {
    expect(data.type).toBe(event);
    expect(ended, `event after the end: ${event}`).toBe(false);
    if (event === "message_start") expect(position).toBe(0);
    if (event === "content_block_start") {
      expect(open).toBeUndefined();
      expect(data.index).toBe(nextIndex);
      open = nextIndex;
      nextIndex += 1;
    } else if (event === "content_block_delta") {
      expect(data.index).toBe(open);
    } else if (event === "content_block_stop") {
      expect(data.index).toBe(open);
      open = undefined;
    } else if (event === "message_delta") {
      expect(open).toBeUndefined();
      expect(events[position + 1]?.event).toBe("message_stop");
    } else if (event === "message_stop" || event === "error") {
      ended = true;
    }
  }
  expect(ended).toBe(true);
  expect(events.filter(({ event }) => event === "message_stop" || event === "error")).toHaveLength(1);
}

const completedStreams: RecordedStreamName[] = ["text", "reasoningText", "functionCallsParallel", "refusal", "incompleteMaxTokens", "chatgptEmptyOutput", "webSearch"];
const failedStreams: RecordedStreamName[] = ["failed", "errorEvent", "truncated"];

describe("recorded streams → Anthropic events, whatever the chunking", () => {
  for (const name of [...completedStreams, ...failedStreams]) {
    it(`${name}: well-formed, and the same message at every chunking`, async () => {
      let reference: unknown;
      for (const [seed, maxChunk] of chunkings) {
        const batches = await translated(name, seed, maxChunk);
        expectWellFormed(batches.flat());
        const accumulated = await accumulate(batches);
        const observed = "message" in accumulated ? plain(accumulated.message) : accumulated.error.error;
        if (reference === undefined) reference = observed;
        expect(observed).toEqual(reference);
      }
    });
  }

  for (const name of completedStreams) {
    it(`${name}: the streamed message equals the non-streaming one`, async () => {
      const accumulated = await accumulate(await translated(name));
      if (!("message" in accumulated)) throw accumulated.error;
      const response = await aggregateResponse(supervised(name, 3, 64));
      expect(plain(accumulated.message)).toEqual(responseToAnthropicMessage(response, { model }));
    });
  }
});

async function finalMessage(name: RecordedStreamName): Promise<Anthropic.Message> {
  const accumulated = await accumulate(await translated(name));
  if (!("message" in accumulated)) throw accumulated.error;
  return accumulated.message;
}

async function finalError(name: RecordedStreamName): Promise<APIError> {
  const accumulated = await accumulate(await translated(name));
  if ("message" in accumulated) throw new Error(`${name} produced a message`);
  return accumulated.error;
}

describe("what the Anthropic SDK accumulates", () => {
  it("text: one text block, end_turn, the response id and the requested model", async () => {
    const message = await finalMessage("text");
    expect(message.id).toBe("resp_68c2ae7388fa81928be482b73b1dc455ac0d6f70f12c2d3a");
    expect(message.model).toBe(model);
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: "text", text: expect.stringMatching(/^The capital of Australia is Canberra\..*other\.$/) });
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 27, output_tokens: 41, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it("reasoningText: summary parts joined by a blank line, a signature that round-trips", async () => {
    const message = await finalMessage("reasoningText");
    const [thinking, text] = message.content;
    if (thinking?.type !== "thinking") throw new Error("expected a thinking block first");
    expect(thinking.thinking).toMatch(/^\*\*Checking divisibility of 391\*\*\n\n.*= 391\.\n\n\*\*Formulating the answer\*\*\n\n.*keep it short\.$/s);
    const response = await aggregateResponse(supervised("reasoningText", 3, 64));
    const reasoning = (response.output as Record<string, unknown>[])[0]!;
    expect(decodeThinkingSignature(thinking.signature)).toEqual({ id: reasoning.id, encryptedContent: reasoning.encrypted_content });
    expect(text).toMatchObject({ type: "text", text: "No — 391 is not prime. It factors as 17 × 23, so its divisors are 1, 17, 23 and 391." });
    expect(message.stop_reason).toBe("end_turn");
  });

  it("functionCallsParallel: tool_use blocks with the call ids and parsed arguments, stop tool_use", async () => {
    const message = await finalMessage("functionCallsParallel");
    expect(message.content.map((block) => block.type)).toEqual(["thinking", "tool_use", "tool_use"]);
    // The reasoning had no summary: an empty thinking block that still carries the signature.
    expect(message.content[0]).toMatchObject({ thinking: "", signature: expect.stringMatching(/^tpk1\./) });
    expect(message.content.slice(1)).toEqual([
      { type: "tool_use", id: "call_EuhwX1qMYwseh77bQITMGBuw", name: "get_weather", input: { location: "Paris, France", unit: "celsius" } },
      { type: "tool_use", id: "call_haoNwTB36yx4sgEhpOvRRxht", name: "get_weather", input: { location: "Tokyo, Japan", unit: "celsius" } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 96, output_tokens: 119 });
  });

  it("refusal: the refusal as text, stop refusal", async () => {
    const message = await finalMessage("refusal");
    expect(message.content).toEqual([{ type: "text", text: "I’m sorry, but I can’t help with instructions for making that substance." }]);
    expect(message.stop_reason).toBe("refusal");
  });

  it("incompleteMaxTokens: an empty reasoning item gives no block, stop max_tokens", async () => {
    const message = await finalMessage("incompleteMaxTokens");
    expect(message.content.map((block) => block.type)).toEqual(["text"]);
    expect(message.content[0]).toMatchObject({ text: expect.stringMatching(/only delays the stream it$/) });
    expect(message.stop_reason).toBe("max_tokens");
  });

  it("chatgptEmptyOutput: content from the streamed items, cached tokens out of input_tokens", async () => {
    const message = await finalMessage("chatgptEmptyOutput");
    expect(message.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(message.content[1]).toMatchObject({ text: "Hi! What would you like to work on in this repo today?" });
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 9133 - 8832, cache_read_input_tokens: 8832, cache_creation_input_tokens: 0, output_tokens: 187 });
  });

  it("webSearch: server_tool_use and its result, then text with web citations", async () => {
    const message = await finalMessage("webSearch");
    const id = "ws_68c2d90fe05181918fc625a8f9cfdce76300d54495ed8cd3";
    expect(message.content.slice(0, 2)).toEqual([
      { type: "server_tool_use", id, name: "web_search", input: { query: "James Webb Space Telescope launch date and arrival at L2" } },
      { type: "web_search_tool_result", tool_use_id: id, content: [] },
    ]);
    const text = message.content[2];
    if (text?.type !== "text") throw new Error("expected a text block");
    expect(text.citations).toEqual([
      { type: "web_search_result_location", url: "https://science.nasa.gov/mission/webb/", title: "Webb - NASA Science", cited_text: "([science.nasa.gov](https://science.nasa.gov/mission/webb/))", encrypted_index: "" },
      {
        type: "web_search_result_location",
        url: "https://www.esa.int/Science_Exploration/Space_Science/Webb/Webb_launch",
        title: "Webb launch - ESA",
        cited_text: "([esa.int](https://www.esa.int/Science_Exploration/Space_Science/Webb/Webb_launch))",
        encrypted_index: "",
      },
    ]);
    expect(message.stop_reason).toBe("end_turn");
  });

  it("failed: an api_error with the upstream's message, after message_start and nothing else", async () => {
    const events = (await translated("failed")).flat();
    expect(events.map(({ event }) => event)).toEqual(["message_start", "error"]);
    const error = await finalError("failed");
    expect(error.type).toBe("api_error");
    expect(error.apiMessage).toMatch(/^An error occurred while processing your request/);
  });

  it("errorEvent: an overloaded upstream is an overloaded_error, which clients retry", async () => {
    const error = await finalError("errorEvent");
    expect(error.error).toEqual({ type: "error", error: { type: "overloaded_error", message: "Our servers are currently overloaded. Please try again later." } });
  });

  it("truncated: the text so far, then an api_error (the open block is left open)", async () => {
    const events = (await translated("truncated")).flat();
    expect(events.map(({ event }) => event)).toEqual(["message_start", "content_block_start", ...Array(4).fill("content_block_delta"), "error"]);
    expect((await finalError("truncated")).type).toBe("api_error");
  });
});

describe("edge cases", () => {
  const created = { type: "response.created", response: { id: "resp_1", status: "in_progress", output: [] } };
  const completed = (output: unknown[] = [], usage: unknown = null) => ({ type: "response.completed", response: { id: "resp_1", status: "completed", output, usage } });
  const functionCall = { id: "fc_1", type: "function_call", call_id: "call_1", name: "read_file", arguments: '{"path":"a.txt"}' };

  it("without response.created, message_start still comes first", async () => {
    const events = await translatedBatches([[{ type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "hi" }], [completed()]]);
    expectWellFormed(events);
    expect(events.map(({ event }) => event)).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
  });

  it("arguments that arrive only in .done are sent as one input_json_delta", async () => {
    const events = await translatedBatches([
      [created, { type: "response.output_item.added", output_index: 0, item: { ...functionCall, arguments: "" } }],
      [{ type: "response.function_call_arguments.done", output_index: 0, item_id: "fc_1", arguments: functionCall.arguments }],
      [{ type: "response.output_item.done", output_index: 0, item: functionCall }, completed([functionCall])],
    ]);
    expectWellFormed(events);
    const deltas = events.filter(({ event }) => event === "content_block_delta").map(({ data }) => data.delta);
    expect(deltas).toEqual([{ type: "input_json_delta", partial_json: functionCall.arguments }]);
    expect(events.find(({ event }) => event === "message_delta")?.data.delta).toEqual({ stop_reason: "tool_use", stop_sequence: null });
  });

  it("an item seen only at output_item.done is emitted whole", async () => {
    const events = await translatedBatches([[created, { type: "response.output_item.done", output_index: 0, item: functionCall }, completed([functionCall])]]);
    expectWellFormed(events);
    expect(await accumulate([events])).toMatchObject({ message: { content: [{ type: "tool_use", id: "call_1", name: "read_file", input: { path: "a.txt" } }] } });
  });

  it("a block still open when the next starts is closed first", async () => {
    const events = await translatedBatches([
      [created, { type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "a" }],
      [{ type: "response.output_text.delta", output_index: 0, content_index: 1, delta: "b" }, completed()],
    ]);
    expectWellFormed(events);
    expect(events.filter(({ event }) => event === "content_block_start")).toHaveLength(2);
  });

  // Found by convert-responses-stream.property.test.ts: two summary parts without deltas gave "\n\n".
  it("reasoning summary parts that arrive without deltas are filled from their .done events", async () => {
    const reasoning = { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "First." }, { type: "summary_text", text: "Second." }] };
    const part = (summary_index: number, text: string) => [
      { type: "response.reasoning_summary_part.added", output_index: 0, item_id: "rs_1", summary_index, part: { type: "summary_text", text: "" } },
      { type: "response.reasoning_summary_text.done", output_index: 0, item_id: "rs_1", summary_index, text },
      { type: "response.reasoning_summary_part.done", output_index: 0, item_id: "rs_1", summary_index, part: { type: "summary_text", text } },
    ];
    const events = await translatedBatches([
      [created, { type: "response.output_item.added", output_index: 0, item: { ...reasoning, summary: [] } }, ...part(0, "First."), ...part(1, "Second.")],
      [{ type: "response.output_item.done", output_index: 0, item: reasoning }, completed([reasoning])],
    ]);
    expectWellFormed(events);
    expect(await accumulate([events])).toMatchObject({ message: { content: [{ type: "thinking", thinking: "First.\n\nSecond." }] } });
  });

  it("unknown event types and everything after the terminal event are ignored", async () => {
    const events = await translatedBatches([
      [{ type: "codex.rate_limits", plan_type: "plus" }, created, { type: "response.something_new", output_index: 0 }],
      [completed(), { type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "late" }, completed()],
    ]);
    expect(events.map(({ event }) => event)).toEqual(["message_start", "message_delta", "message_stop"]);
  });

  it("an unsupervised stream that just ends gets an api_error", async () => {
    const events = await translatedBatches([[created]]);
    expect(events.at(-1)).toEqual({ event: "error", data: { type: "error", error: { type: "api_error", message: expect.any(String) } } });
  });

  it("message_delta carries all four usage fields", async () => {
    const usage = { input_tokens: 1000, input_tokens_details: { cached_tokens: 900 }, output_tokens: 20 };
    const events = await translatedBatches([[created, completed([], usage)]]);
    expect(events.find(({ event }) => event === "message_delta")?.data.usage).toEqual({ input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 900, cache_creation_input_tokens: 0 });
  });

  it("maps Responses error codes to Anthropic error types", () => {
    expect(["server_is_overloaded", "slow_down"].map(anthropicErrorType)).toEqual(["overloaded_error", "overloaded_error"]);
    expect(["rate_limit_exceeded", "usage_limit_reached", "insufficient_quota"].map(anthropicErrorType)).toEqual(Array(3).fill("rate_limit_error"));
    expect(["context_length_exceeded", "invalid_prompt"].map(anthropicErrorType)).toEqual(Array(2).fill("invalid_request_error"));
    expect(["server_error", "upstream_disconnected", undefined].map(anthropicErrorType)).toEqual(Array(3).fill("api_error"));
  });

  it("encodes a batch as SSE frames", () => {
    const bytes = encodeAnthropicEvents([anthropicPing, { event: "message_stop", data: { type: "message_stop" } }]);
    expect(new TextDecoder().decode(bytes)).toBe('event: ping\ndata: {"type":"ping"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n');
  });
});
