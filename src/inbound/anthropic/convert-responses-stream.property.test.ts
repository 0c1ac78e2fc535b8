// Properties of the Responses → Anthropic stream translator over generated Responses streams
// (test/workers/support/responses-stream-arbitrary.ts), supervised as the route supervises them:
// the Anthropic stream is well formed whatever the items, their delivery, the batching and the
// ending, and what it accumulates to is what the non-streaming path answers for the same events.
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters, fuzzTimeout } from "../../../test/workers/support/fuzz";
import { collect, streamOf } from "../../../test/workers/support/recorded-streams";
import { batchesOf, eventsOf, streamScenario, type StreamScenario } from "../../../test/workers/support/responses-stream-arbitrary";
import { aggregateResponse } from "../../streams/aggregate-response";
import { eventReaderOf, type EventReader } from "../../streams/event-reader";
import { eventFromPayload } from "../../streams/responses-event";
import { superviseResponsesEvents } from "../../streams/supervise-responses-events";
import { responseToAnthropicMessage } from "./convert-responses-response";
import { anthropicEventsFromResponses, encodeAnthropicEvents, type AnthropicEvent } from "./convert-responses-stream";

const model = "claude-sonnet-4-5";

function upstream(scenario: StreamScenario): EventReader {
  const events = eventsOf(scenario).map((payload) => eventFromPayload({ ...payload, type: String(payload.type) }));
  return superviseResponsesEvents(eventReaderOf(batchesOf(events, scenario.cuts)), { idleTimeoutMs: 60_000 });
}

async function translated(scenario: StreamScenario): Promise<AnthropicEvent[][]> {
  return collect(anthropicEventsFromResponses(upstream(scenario), { model }));
}

const endsWithMessage = (scenario: StreamScenario) => !["failed", "error_event", "none"].includes(scenario.ending);

/** Which deltas each kind of block takes. */
const deltaTypes: Record<string, string[]> = {
  text: ["text_delta", "citations_delta"],
  thinking: ["thinking_delta", "signature_delta"],
  tool_use: ["input_json_delta"],
  server_tool_use: ["input_json_delta"],
};

/**
 * message_start first; blocks started at indices 0, 1, 2…, one open at a time, deltas only into
 * the open block and of its kind; exactly one message_stop (after message_delta, every block
 * closed) or exactly one error, and nothing after it.
 */
function expectWellFormed(events: AnthropicEvent[]): void {
  expect(events[0]?.event).toBe("message_start");
  let open: { index: number; type: string } | undefined;
  let nextIndex = 0;
  events.forEach(({ event, data }, position) => {
    expect(data.type).toBe(event);
    const last = position === events.length - 1;
    switch (event) {
      case "message_start":
        expect(position).toBe(0);
        break;
      case "content_block_start": {
        expect(open, "a block started inside another").toBeUndefined();
        expect(data.index).toBe(nextIndex);
        open = { index: nextIndex, type: String((data.content_block as { type: unknown }).type) };
        nextIndex += 1;
        break;
      }
      case "content_block_delta": {
        expect(open, "a delta outside any block").toBeDefined();
        expect(data.index).toBe(open!.index);
        expect(deltaTypes[open!.type] ?? []).toContain((data.delta as { type: unknown }).type);
        break;
      }
      case "content_block_stop":
        expect(open).toBeDefined();
        expect(data.index).toBe(open!.index);
        open = undefined;
        break;
      case "message_delta":
        expect(open, "message_delta with a block open").toBeUndefined();
        expect(events[position + 1]?.event).toBe("message_stop");
        break;
      case "message_stop":
      case "error":
        expect(last, `${event} is not the last event`).toBe(true);
        break;
      default:
        expect(event).toBe("ping");
    }
  });
  expect(["message_stop", "error"]).toContain(events.at(-1)?.event);
}

/**
 * What a client accumulates (the Anthropic SDK's rules, without its partial-JSON parsing): each
 * block as started, text and thinking appended, the signature set, citations collected, tool
 * input parsed from its JSON deltas at the block's stop.
 */
function accumulate(events: AnthropicEvent[]) {
  const content: Record<string, unknown>[] = [];
  const json = new Map<number, string>();
  let stop: Record<string, unknown> = {};
  let usage: unknown;
  for (const { event, data } of events) {
    const index = data.index as number;
    if (event === "content_block_start") content[index] = structuredClone(data.content_block as Record<string, unknown>);
    else if (event === "content_block_delta") {
      const block = content[index]!;
      const delta = data.delta as Record<string, string>;
      if (delta.type === "text_delta") block.text = `${String(block.text)}${delta.text}`;
      else if (delta.type === "thinking_delta") block.thinking = `${String(block.thinking)}${delta.thinking}`;
      else if (delta.type === "signature_delta") block.signature = delta.signature;
      else if (delta.type === "citations_delta") block.citations = [...((block.citations as unknown[]) ?? []), delta.citation];
      else if (delta.type === "input_json_delta") json.set(index, (json.get(index) ?? "") + delta.partial_json);
    } else if (event === "content_block_stop" && json.has(index)) {
      content[index]!.input = JSON.parse(json.get(index)!);
    } else if (event === "message_delta") {
      stop = data.delta as Record<string, unknown>;
      usage = data.usage;
    }
  }
  return { content, stop_reason: stop.stop_reason, stop_sequence: stop.stop_sequence, usage };
}

describe("any Responses event sequence → Anthropic events", () => {
  it(
    "is well formed: message_start, nested blocks with increasing indices, one message_stop or one error last",
    { timeout: fuzzTimeout(60_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(streamScenario, async (scenario) => {
          const events = (await translated(scenario)).flat();
          expectWellFormed(events);
          expect(events.at(-1)!.event).toBe(endsWithMessage(scenario) ? "message_stop" : "error");
        }),
        fuzzParameters(2000),
      );
    },
  );

  it(
    "accumulates to the content, stop reason and usage the non-streaming path gives for the same events",
    { timeout: fuzzTimeout(60_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          streamScenario.filter(endsWithMessage),
          async (scenario) => {
            const streamed = accumulate((await translated(scenario)).flat());
            const message = responseToAnthropicMessage(await aggregateResponse(upstream(scenario)), { model });
            // As JSON: tool input may hold a `__proto__` key, which only JSON compares as data.
            expect(JSON.stringify(streamed.content)).toBe(JSON.stringify(message.content));
            expect(streamed.stop_reason).toBe(message.stop_reason);
            expect(streamed.stop_sequence).toBe(message.stop_sequence);
            expect(streamed.usage).toEqual(message.usage);
          },
        ),
        fuzzParameters(2000),
      );
    },
  );

  it(
    "the Anthropic SDK accumulates the same message as the non-streaming answer, or reports the error",
    { timeout: fuzzTimeout(60_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(streamScenario, async (scenario) => {
          const batches = await translated(scenario);
          const fetch = async () => new Response(streamOf(batches.map(encodeAnthropicEvents)), { headers: { "content-type": "text/event-stream" } });
          const client = new Anthropic({ apiKey: "test", maxRetries: 0, fetch });
          const stream = client.messages.stream({ model, max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
          if (!endsWithMessage(scenario)) {
            await expect(stream.finalMessage()).rejects.toBeInstanceOf(APIError);
            return;
          }
          const { parsed_output: _parsed, ...streamed } = JSON.parse(JSON.stringify(await stream.finalMessage())) as Record<string, unknown>;
          const message = responseToAnthropicMessage(await aggregateResponse(upstream(scenario)), { model });
          expect(JSON.stringify(streamed.content)).toBe(JSON.stringify(message.content));
          expect(streamed).toMatchObject({ id: message.id, stop_reason: message.stop_reason, usage: message.usage });
        }),
        fuzzParameters(300, 0.2),
      );
    },
  );
});
