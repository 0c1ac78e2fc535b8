// Properties of the stream translator over generated Responses event sequences: whatever the
// items, their pieces, the batching and the ending, the frames are well formed and the openai
// SDK's `chat.completions.stream()` helper accumulates exactly what the events carried.
import fc from "fast-check";
import OpenAI, { APIError } from "openai";
import { describe, expect, it } from "vitest";
import { fuzzParameters, fuzzTimeout } from "../../../test/workers/support/fuzz";
import { collect, streamOf } from "../../../test/workers/support/recorded-streams";
import { deltasOf, expectWellFormed } from "../../../test/workers/support/chat-stream-assertions";
import { eventReaderOf } from "../../streams/event-reader";
import { eventFromPayload, type ResponsesEvent } from "../../streams/responses-event";
import { chatFramesFromResponses, encodeChatFrames } from "./convert-responses-stream";

const model = "gpt-5.5";

type Pieces = string[];
type ItemSpec =
  | { kind: "message"; parts: { type: "output_text" | "refusal"; pieces: Pieces }[]; streamed: boolean }
  | { kind: "reasoning"; summary: Pieces[]; streamed: boolean }
  | { kind: "function_call"; name: string; pieces: Pieces; streamed: boolean };

const pieces = fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 });
const itemSpec: fc.Arbitrary<ItemSpec> = fc.oneof(
  fc.record({ kind: fc.constant("message" as const), parts: fc.array(fc.record({ type: fc.constantFrom("output_text" as const, "refusal" as const), pieces }), { minLength: 1, maxLength: 2 }), streamed: fc.boolean() }),
  fc.record({ kind: fc.constant("reasoning" as const), summary: fc.array(pieces, { maxLength: 2 }), streamed: fc.boolean() }),
  fc.record({ kind: fc.constant("function_call" as const), name: fc.constantFrom("bash", "read", "write"), pieces, streamed: fc.boolean() }),
);
const ending = fc.constantFrom("completed", "completed_empty_output", "incomplete", "failed", "none");
const scenario = fc.record({
  items: fc.array(itemSpec, { maxLength: 4 }),
  ending,
  includeUsage: fc.boolean(),
  // Where batches are cut, and whether parallel calls' argument deltas interleave.
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  interleave: fc.boolean(),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function itemOf(spec: ItemSpec, index: number): Record<string, unknown> {
  const id = `item_${index}`;
  switch (spec.kind) {
    case "message":
      return { id, type: "message", role: "assistant", status: "completed", content: spec.parts.map((part) => (part.type === "refusal" ? { type: "refusal", refusal: part.pieces.join("") } : { type: "output_text", text: part.pieces.join(""), annotations: [] })) };
    case "reasoning":
      return { id, type: "reasoning", summary: spec.summary.map((part) => ({ type: "summary_text", text: part.join("") })) };
    case "function_call":
      return { id, type: "function_call", status: "completed", call_id: `call_${index}`, name: spec.name, arguments: spec.pieces.join("") };
  }
}

/** The events the upstream would send for the scenario, in order. */
function eventsOf({ items, ending, interleave }: Scenario): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [{ type: "response.created", response: { id: "resp_p", created_at: 7, status: "in_progress", output: [] } }];
  const deferred: Record<string, unknown>[][] = [];
  items.forEach((spec, output_index) => {
    const item = itemOf(spec, output_index);
    const item_id = item.id;
    const body: Record<string, unknown>[] = [];
    const empty = spec.kind === "function_call" ? { ...item, arguments: "" } : spec.kind === "message" ? { ...item, content: [] } : { ...item, summary: [] };
    events.push({ type: "response.output_item.added", output_index, item: empty });
    if (spec.streamed) {
      if (spec.kind === "message") {
        spec.parts.forEach((part, content_index) => {
          const where = { item_id, output_index, content_index };
          const type = part.type === "refusal" ? "response.refusal.delta" : "response.output_text.delta";
          for (const delta of part.pieces) body.push({ type, ...where, delta });
        });
      } else if (spec.kind === "reasoning") {
        spec.summary.forEach((part, summary_index) => {
          for (const delta of part) body.push({ type: "response.reasoning_summary_text.delta", item_id, output_index, summary_index, delta });
        });
      } else {
        for (const delta of spec.pieces) body.push({ type: "response.function_call_arguments.delta", item_id, output_index, delta });
      }
    }
    const done = { type: "response.output_item.done", output_index, item };
    if (interleave && spec.kind === "function_call") {
      deferred.push([...body, done]);
    } else {
      events.push(...body, done);
    }
  });
  // Parallel calls: their events round-robin, each call's own order kept.
  while (deferred.some((queue) => queue.length > 0)) for (const queue of deferred) if (queue.length > 0) events.push(queue.shift()!);
  const output = items.map(itemOf);
  const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 15 };
  if (ending === "completed") events.push({ type: "response.completed", response: { id: "resp_p", status: "completed", output, usage } });
  if (ending === "completed_empty_output") events.push({ type: "response.completed", response: { id: "resp_p", status: "completed", output: [], usage } });
  if (ending === "incomplete") events.push({ type: "response.incomplete", response: { id: "resp_p", status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output, usage } });
  if (ending === "failed") events.push({ type: "response.failed", response: { id: "resp_p", status: "failed", error: { code: "server_error", message: "boom" } } });
  return events;
}

function batchesOf(events: Record<string, unknown>[], cuts: number[]): ResponsesEvent[][] {
  const positions = [...new Set(cuts.map((cut) => cut % (events.length + 1)))].sort((a, b) => a - b);
  const batches: ResponsesEvent[][] = [];
  let start = 0;
  for (const position of [...positions, events.length]) {
    if (position > start) batches.push(events.slice(start, position).map((payload) => eventFromPayload(payload as { type: string })));
    start = Math.max(start, position);
  }
  return batches;
}

function expected(items: ItemSpec[], ending: string) {
  const text = (type: "output_text" | "refusal") =>
    items.flatMap((spec) => (spec.kind === "message" ? spec.parts.filter((part) => part.type === type).map((part) => part.pieces.join("")) : [])).join("") || null;
  const calls = items.flatMap((spec, index) => (spec.kind === "function_call" ? [{ id: `call_${index}`, type: "function", function: { name: spec.name, arguments: spec.pieces.join("") } }] : []));
  const finish = calls.length > 0 ? "tool_calls" : ending === "incomplete" ? "length" : "stop";
  return { content: text("output_text"), refusal: text("refusal"), calls, finish };
}

describe("any Responses event sequence", () => {
  it("ends in exactly one finish (then usage if asked, then [DONE]) or in one error frame, and the SDK accumulates what the events carried", { timeout: fuzzTimeout(30_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (generated) => {
        const frames = (await collect(chatFramesFromResponses(eventReaderOf(batchesOf(eventsOf(generated), generated.cuts)), { model, includeUsage: generated.includeUsage }))).flat();
        expectWellFormed(frames, { includeUsage: generated.includeUsage, model });

        const fetch = async () => new Response(streamOf([encodeChatFrames(frames)]), { headers: { "content-type": "text/event-stream" } });
        const client = new OpenAI({ apiKey: "test", maxRetries: 0, fetch });
        const stream = client.chat.completions.stream({ model, messages: [{ role: "user", content: "hi" }] });
        const failed = generated.ending === "failed" || generated.ending === "none";
        if (failed) {
          await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(APIError);
          return;
        }
        const completion = await stream.finalChatCompletion();
        const want = expected(generated.items, generated.ending);
        const choice = completion.choices[0]!;
        expect(choice.finish_reason).toBe(want.finish);
        expect(choice.message.content).toBe(want.content);
        expect(choice.message.refusal).toBe(want.refusal);
        expect(choice.message.tool_calls ?? []).toEqual(want.calls);
        const reasoning = deltasOf(frames).map((delta) => delta.reasoning_content ?? "").join("");
        const summaries = generated.items.flatMap((spec) => (spec.kind === "reasoning" ? [spec.summary.map((part) => part.join("")).join("\n\n")] : [])).filter(Boolean);
        expect(reasoning).toBe(summaries.join("\n\n"));
        if (generated.includeUsage) expect(completion.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } });
      }),
      fuzzParameters(150, 0.2),
    );
  });
});
