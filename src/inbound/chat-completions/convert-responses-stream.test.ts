import OpenAI, { APIError } from "openai";
import { Stream } from "openai/streaming";
import { describe, expect, it } from "vitest";
import { collect, rechunk, recordedStreams, streamOf, type RecordedStreamName } from "../../../test/workers/support/recorded-streams";
import { aggregateResponse } from "../../streams/aggregate-response";
import { eventFromPayload, type ResponsesEventPayload } from "../../streams/responses-event";
import { eventReaderOf, type EventReader } from "../../streams/event-reader";
import { readResponsesEvents } from "../../streams/sse-reader";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { responseToChatCompletion } from "./convert-responses-response";
import { chatFramesFromResponses, encodeChatFrames, encodeChatKeepalive, type ChatStreamFrame } from "./convert-responses-stream";
import { chunksOf, deltasOf, expectWellFormed } from "../../../test/workers/support/chat-stream-assertions";

const model = "gpt-5.5";
/** Seed and largest chunk: tiny chunks (events split across many reads) up to the whole file at once. */
const chunkings: [number, number][] = [
  [1, 5],
  [7, 64],
  [42, 300],
  [1234, 100_000],
];

function supervised(name: RecordedStreamName, seed = 3, maxChunk = 64): EventReader {
  const events = readResponsesEvents(streamOf(rechunk(recordedStreams[name], seed, maxChunk)));
  return superviseResponsesEvents(events, { idleTimeoutMs: 5_000 });
}

async function translated(name: RecordedStreamName, seed = 3, maxChunk = 64, includeUsage = true): Promise<ChatStreamFrame[][]> {
  return collect(chatFramesFromResponses(supervised(name, seed, maxChunk), { model, includeUsage }));
}

async function translatedBatches(batches: ResponsesEventPayload[][], includeUsage = false): Promise<ChatStreamFrame[]> {
  const input = batches.map((batch) => batch.map((payload) => eventFromPayload({ ...payload, type: String(payload.type) })));
  return (await collect(chatFramesFromResponses(eventReaderOf(input), { model, includeUsage }))).flat();
}


/** A client on the frames: one write per batch, a keepalive comment between batches (clients must skip it). */
function clientFor(batches: ChatStreamFrame[][]): OpenAI {
  const fetch = async () => {
    const chunks = batches.map((batch, position) => (position === 0 ? encodeChatFrames(batch) : concat(encodeChatKeepalive(), encodeChatFrames(batch))));
    return new Response(streamOf(chunks), { headers: { "content-type": "text/event-stream" } });
  };
  return new OpenAI({ apiKey: "test", maxRetries: 0, fetch });
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(first.length + second.length);
  bytes.set(first);
  bytes.set(second, first.length);
  return bytes;
}

type Accumulated = { completion: OpenAI.ChatCompletion } | { error: APIError };

/** What `client.chat.completions.stream(…).finalChatCompletion()` makes of the frames. */
async function accumulate(batches: ChatStreamFrame[][]): Promise<Accumulated> {
  const stream = clientFor(batches).chat.completions.stream({ model, messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } });
  try {
    return { completion: await stream.finalChatCompletion() };
  } catch (error) {
    if (error instanceof APIError) return { error };
    throw error;
  }
}

/** Every chunk as `chat.completions.create({stream: true})` yields it, or the error it raises. */
async function iterate(batches: ChatStreamFrame[][]): Promise<{ chunks: OpenAI.ChatCompletionChunk[]; error?: unknown }> {
  const stream = await clientFor(batches).chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], stream: true });
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

/**
 * What a client can compare: without the SDK's own `parsed` helper field, and without
 * `reasoning_content`, of which the SDK helper keeps only the last fragment (it assigns delta
 * fields it does not know instead of appending them; compared separately below).
 */
function withoutReasoning(completion: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(completion)) as { choices: { message: Record<string, unknown> }[] };
  for (const choice of copy.choices) {
    delete choice.message.reasoning_content;
    delete choice.message.parsed;
  }
  return copy;
}

const completedStreams: RecordedStreamName[] = ["text", "reasoningText", "functionCallsParallel", "refusal", "incompleteMaxTokens", "chatgptEmptyOutput", "webSearch"];
const failedStreams: RecordedStreamName[] = ["failed", "errorEvent", "truncated"];

describe("recorded streams → chunks, whatever the chunking", () => {
  for (const name of [...completedStreams, "customToolCall" as const, ...failedStreams]) {
    it(`${name}: well-formed, and the same frames at every chunking`, async () => {
      let reference: unknown;
      for (const [seed, maxChunk] of chunkings) {
        const frames = (await translated(name, seed, maxChunk)).flat();
        expectWellFormed(frames, { includeUsage: true, model });
        // Chunks may fall into different batches; their content may not differ.
        const observed = JSON.stringify(frames);
        reference ??= observed;
        expect(observed).toBe(reference);
      }
    });
  }

  for (const name of completedStreams) {
    it(`${name}: the SDK's finalChatCompletion() equals the non-streaming answer`, async () => {
      const accumulated = await accumulate(await translated(name));
      if (!("completion" in accumulated)) throw accumulated.error;
      const response = await aggregateResponse(supervised(name));
      expect(withoutReasoning(accumulated.completion as unknown as Record<string, unknown>)).toEqual(withoutReasoning(responseToChatCompletion(response, { model })));
    });

    it(`${name}: the reasoning_content deltas add up to the non-streaming reasoning_content`, async () => {
      const deltas = deltasOf((await translated(name)).flat());
      const streamed = deltas.map((delta) => delta.reasoning_content ?? "").join("");
      const message = (responseToChatCompletion(await aggregateResponse(supervised(name)), { model }).choices as { message: { reasoning_content?: string } }[])[0]!.message;
      expect(streamed).toBe(message.reasoning_content ?? "");
    });
  }
});

async function finalCompletion(name: RecordedStreamName): Promise<OpenAI.ChatCompletion> {
  const accumulated = await accumulate(await translated(name));
  if (!("completion" in accumulated)) throw accumulated.error;
  return accumulated.completion;
}

describe("what the openai SDK makes of them", () => {
  it("text: content, stop, usage, the id from the response id and the requested model", async () => {
    const completion = await finalCompletion("text");
    expect(completion).toMatchObject({
      id: "chatcmpl-68c2ae7388fa81928be482b73b1dc455ac0d6f70f12c2d3a",
      object: "chat.completion",
      created: 1757589107,
      model,
      usage: { prompt_tokens: 27, completion_tokens: 41, total_tokens: 68, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({ index: 0, finish_reason: "stop", message: { role: "assistant", refusal: null, content: expect.stringMatching(/^The capital of Australia is Canberra\..*other\.$/) } });
  });

  it("reasoningText: reasoning_content deltas (parts a blank line apart) before the content", async () => {
    const deltas = deltasOf((await translated("reasoningText")).flat());
    const reasoning = deltas.map((delta) => delta.reasoning_content ?? "").join("");
    expect(reasoning).toMatch(/^\*\*Checking divisibility of 391\*\*\n\n.*= 391\.\n\n\*\*Formulating the answer\*\*\n\n.*keep it short\.$/s);
    const firstContent = deltas.findIndex((delta) => delta.content);
    expect(deltas.findLastIndex((delta) => delta.reasoning_content)).toBeLessThan(firstContent);
    const completion = await finalCompletion("reasoningText");
    expect(completion.choices[0]!.message.content).toBe("No — 391 is not prime. It factors as 17 × 23, so its divisors are 1, 17, 23 and 391.");
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(320);
  });

  it("functionCallsParallel: two tool calls, index 0 and 1, ids and names in the first fragment, tool_calls", async () => {
    const frames = (await translated("functionCallsParallel")).flat();
    const fragments = deltasOf(frames).flatMap((delta) => (delta.tool_calls as Record<string, unknown>[] | undefined) ?? []);
    expect(fragments[0]).toEqual({ index: 0, id: "call_EuhwX1qMYwseh77bQITMGBuw", type: "function", function: { name: "get_weather", arguments: "" } });
    expect(fragments.filter((fragment) => "id" in fragment).map((fragment) => fragment.index)).toEqual([0, 1]);
    expect(fragments.slice(1).every((fragment) => "id" in fragment || Object.keys(fragment).join() === "index,function")).toBe(true);
    const completion = await finalCompletion("functionCallsParallel");
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      { id: "call_EuhwX1qMYwseh77bQITMGBuw", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris, France","unit":"celsius"}' } },
      { id: "call_haoNwTB36yx4sgEhpOvRRxht", type: "function", function: { name: "get_weather", arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' } },
    ]);
  });

  it("refusal: the refusal field, finish_reason stop as on the OpenAI API", async () => {
    const completion = await finalCompletion("refusal");
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: null, refusal: "I’m sorry, but I can’t help with instructions for making that substance." } });
  });

  it("incompleteMaxTokens: the text so far, length", async () => {
    const completion = await finalCompletion("incompleteMaxTokens");
    expect(completion.choices[0]).toMatchObject({ finish_reason: "length", message: { content: expect.stringMatching(/only delays the stream it$/) } });
  });

  it("chatgptEmptyOutput: content from the streamed items, cached tokens in the prompt details", async () => {
    const completion = await finalCompletion("chatgptEmptyOutput");
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: "Hi! What would you like to work on in this repo today?" } });
    expect(completion.usage).toMatchObject({ prompt_tokens: 9133, prompt_tokens_details: { cached_tokens: 8832 }, completion_tokens: 187 });
  });

  it("webSearch: the answer with url_citation annotations", async () => {
    const completion = await finalCompletion("webSearch");
    const message = completion.choices[0]!.message;
    expect(message.annotations).toEqual([
      { type: "url_citation", url_citation: { url: "https://science.nasa.gov/mission/webb/", title: "Webb - NASA Science", start_index: expect.any(Number), end_index: expect.any(Number) } },
      { type: "url_citation", url_citation: { url: "https://www.esa.int/Science_Exploration/Space_Science/Webb/Webb_launch", title: "Webb launch - ESA", start_index: expect.any(Number), end_index: expect.any(Number) } },
    ]);
    const first = message.annotations![0]!.url_citation;
    expect(message.content!.slice(first.start_index, first.end_index)).toBe("([science.nasa.gov](https://science.nasa.gov/mission/webb/))");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });

  it("customToolCall: a custom tool call, its input in pieces", async () => {
    const frames = (await translated("customToolCall")).flat();
    const fragments = deltasOf(frames).flatMap((delta) => (delta.tool_calls as { custom?: { input?: string; name?: string } }[] | undefined) ?? []);
    expect(fragments[0]).toMatchObject({ index: 0, type: "custom", custom: { name: "apply_patch", input: "" } });
    const response = await aggregateResponse(supervised("customToolCall"));
    const call = (response.output as Record<string, unknown>[]).find((item) => item.type === "custom_tool_call")!;
    expect(fragments.map((fragment) => fragment.custom?.input ?? "").join("")).toBe(call.input);
    expect(chunksOf(frames).at(-2)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("failed: the role chunk, then an error frame that the SDK raises as an APIError; no [DONE]", async () => {
    const frames = (await translated("failed")).flat();
    expect(frames).toHaveLength(2);
    expect(frames[1]).toEqual({ error: { message: expect.stringMatching(/^An error occurred while processing your request/), type: "server_error", code: "server_error", param: null } });
    const accumulated = await accumulate([frames]);
    if (!("error" in accumulated)) throw new Error("the SDK accepted a failed stream");
    expect(accumulated.error.status).toBeUndefined();
    expect(accumulated.error.code).toBe("server_error");
    expect(accumulated.error.type).toBe("server_error");
    expect(accumulated.error.message).toMatch(/^An error occurred while processing your request/);
  });

  it("errorEvent: the upstream's code (server_is_overloaded) reaches the client, raised while iterating", async () => {
    const { chunks, error } = await iterate(await translated("errorEvent"));
    expect(chunks).toHaveLength(1);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ code: "server_is_overloaded", type: "server_error", message: "Our servers are currently overloaded. Please try again later." });
  });

  it("truncated: the text so far, then an error with the supervisor's code", async () => {
    const batches = await translated("truncated");
    const { chunks, error } = await iterate(batches);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).not.toBe("");
    expect(error).toMatchObject({ code: "upstream_disconnected", type: "server_error" });
  });

  it("Stream.fromSSEResponse on the bytes: raises on the error frame", async () => {
    const frames = (await translated("failed")).flat();
    const response = new Response(streamOf([encodeChatFrames(frames)]), { headers: { "content-type": "text/event-stream" } });
    const stream = Stream.fromSSEResponse<OpenAI.ChatCompletionChunk>(response, new AbortController());
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) seen.push(chunk);
      })(),
    ).rejects.toBeInstanceOf(APIError);
    expect(seen).toHaveLength(1);
  });

  it("without include_usage there is no usage chunk", async () => {
    const frames = (await translated("text", 3, 64, false)).flat();
    expectWellFormed(frames, { includeUsage: false, model });
    expect(frames.filter((frame) => frame !== "[DONE]" && "usage" in frame)).toHaveLength(0);
  });
});

describe("edge cases", () => {
  const created = { type: "response.created", response: { id: "resp_1", created_at: 1, status: "in_progress", output: [] } };
  const completed = (output: unknown[] = [], usage: unknown = null) => ({ type: "response.completed", response: { id: "resp_1", status: "completed", output, usage } });
  const call = (index: number) => ({ id: `fc_${index}`, type: "function_call", call_id: `call_${index}`, name: `tool_${index}`, arguments: "" });

  it("interleaved argument deltas of parallel calls go to their own index", async () => {
    const frames = await translatedBatches([
      [created, { type: "response.output_item.added", output_index: 0, item: call(0) }, { type: "response.output_item.added", output_index: 1, item: call(1) }],
      [
        { type: "response.function_call_arguments.delta", output_index: 1, item_id: "fc_1", delta: '{"b"' },
        { type: "response.function_call_arguments.delta", output_index: 0, item_id: "fc_0", delta: '{"a"' },
        { type: "response.function_call_arguments.delta", output_index: 1, item_id: "fc_1", delta: ":2}" },
        { type: "response.function_call_arguments.delta", output_index: 0, item_id: "fc_0", delta: ":1}" },
      ],
      [completed([{ ...call(0), arguments: '{"a":1}' }, { ...call(1), arguments: '{"b":2}' }])],
    ]);
    expectWellFormed(frames, { includeUsage: false, model });
    const accumulated = await accumulate([frames]);
    if (!("completion" in accumulated)) throw accumulated.error;
    expect(accumulated.completion.choices[0]!.message.tool_calls).toEqual([
      { id: "call_0", type: "function", function: { name: "tool_0", arguments: '{"a":1}' } },
      { id: "call_1", type: "function", function: { name: "tool_1", arguments: '{"b":2}' } },
    ]);
  });

  it("a call seen only at output_item.done is sent whole", async () => {
    const item = { ...call(0), arguments: '{"path":"a"}' };
    const frames = await translatedBatches([[created, { type: "response.output_item.done", output_index: 0, item }, completed([item])]]);
    expect(deltasOf(frames).slice(1, 3)).toEqual([
      { tool_calls: [{ index: 0, id: "call_0", type: "function", function: { name: "tool_0", arguments: "" } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"path":"a"}' } }] },
    ]);
  });

  it("text that arrives only in .done is sent once", async () => {
    const frames = await translatedBatches([
      [created, { type: "response.output_text.done", output_index: 0, content_index: 0, text: "whole" }],
      [{ type: "response.content_part.done", output_index: 0, content_index: 0, part: { type: "output_text", text: "whole" } }, completed()],
    ]);
    expect(deltasOf(frames).filter((delta) => delta.content)).toEqual([{ content: "whole" }]);
  });

  it("without response.created the role chunk still comes first; unknown and late events are ignored", async () => {
    const frames = await translatedBatches([
      [{ type: "codex.rate_limits", plan_type: "plus" }, { type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "hi" }],
      [completed(), { type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "late" }, completed()],
    ]);
    expectWellFormed(frames, { includeUsage: false, model });
    expect(deltasOf(frames)).toEqual([{ role: "assistant", content: "" }, { content: "hi" }, {}]);
  });

  it("an incomplete response for content_filter finishes with content_filter", async () => {
    const frames = await translatedBatches([[created, { type: "response.incomplete", response: { id: "resp_1", status: "incomplete", incomplete_details: { reason: "content_filter" }, output: [] } }]]);
    expect(chunksOf(frames).at(-1)!.choices[0]!.finish_reason).toBe("content_filter");
  });

  it("an unsupervised stream that just ends gets an error frame", async () => {
    const frames = await translatedBatches([[created]]);
    expect(frames.at(-1)).toEqual({ error: { message: expect.any(String), type: "server_error", code: "upstream_disconnected", param: null } });
  });

  it("a rate-limit failure is a rate_limit_error", async () => {
    const frames = await translatedBatches([[created, { type: "response.failed", response: { id: "resp_1", status: "failed", error: { code: "rate_limit_exceeded", message: "slow down" } } }]]);
    expect(frames.at(-1)).toEqual({ error: { message: "slow down", type: "rate_limit_error", code: "rate_limit_exceeded", param: null } });
  });

  it("encodes data-only frames and [DONE]", () => {
    const bytes = encodeChatFrames([{ id: "x", choices: [] }, "[DONE]"]);
    expect(new TextDecoder().decode(bytes)).toBe('data: {"id":"x","choices":[]}\n\ndata: [DONE]\n\n');
    expect(new TextDecoder().decode(encodeChatKeepalive())).toBe(": keepalive\n\n");
  });
});
