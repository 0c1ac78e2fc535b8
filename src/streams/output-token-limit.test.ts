import { describe, expect, it } from "vitest";
import { collect, recordedStreams, streamOf } from "../../test/workers/support/recorded-streams";
import { loadTokenCounter } from "../shared/token-counter";
import { aggregateResponse } from "./aggregate-response";
import { eventReaderOf, type EventReader } from "./event-reader";
import { cutAtOutputTokens } from "./output-token-limit";
import { eventFromPayload, eventPayload } from "./responses-event";
import { readResponsesEvents } from "./sse-reader";
import { superviseResponsesEvents } from "./supervise-responses-events";

/** One token per character: makes cuts easy to read. */
const perCharacter = (text: string) => text.length;

function recorded(name: keyof typeof recordedStreams): EventReader {
  return superviseResponsesEvents(readResponsesEvents(streamOf([new TextEncoder().encode(recordedStreams[name])])), { idleTimeoutMs: 5_000 });
}

async function types(reader: EventReader): Promise<string[]> {
  return (await collect(reader)).flat().map((event) => event.type);
}

describe("cutAtOutputTokens", () => {
  it("text: cut at the limit, the part and item ended, the upstream's usage kept, status incomplete", async () => {
    const events = (await collect(cutAtOutputTokens(recorded("text"), 10, perCharacter))).flat();
    const text = events.filter((event) => event.type === "response.output_text.delta").map((event) => eventPayload(event).delta).join("");
    expect(text).toBe("The capita");
    expect(events.map((event) => event.type).slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"]);
    const response = eventPayload(events.at(-1)!).response as Record<string, unknown>;
    expect(response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, usage: { input_tokens: 27, output_tokens: 41 } });
    expect(response.output).toEqual([expect.objectContaining({ type: "message", status: "incomplete", content: [expect.objectContaining({ type: "output_text", text: "The capita" })] })]);
    // Sequence numbers go on from the upstream's.
    const numbers = events.map((event) => eventPayload(event).sequence_number).filter((number) => typeof number === "number");
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
  });

  it("the aggregated response is the cut one", async () => {
    const response = await aggregateResponse(cutAtOutputTokens(recorded("text"), 3, perCharacter));
    expect(response.status).toBe("incomplete");
    expect(JSON.stringify(response.output)).toContain('"text":"The"');
  });

  it("tool call arguments count too: the call ends incomplete", async () => {
    const events = (await collect(cutAtOutputTokens(recorded("functionCallsParallel"), 5, perCharacter))).flat();
    const response = eventPayload(events.at(-1)!).response as { status: string; output: Record<string, unknown>[] };
    expect(response.status).toBe("incomplete");
    expect(response.output.at(-1)).toMatchObject({ type: "function_call", status: "incomplete", call_id: "call_EuhwX1qMYwseh77bQITMGBuw", arguments: '{"loc' });
  });

  it("under the limit nothing changes; a failure passes as it is", async () => {
    expect(await types(cutAtOutputTokens(recorded("text"), 1000, perCharacter))).toEqual(await types(recorded("text")));
    expect((await types(cutAtOutputTokens(recorded("failed"), 1, perCharacter))).at(-1)).toBe("response.failed");
    const cutThenFailed = eventReaderOf([
      [eventFromPayload({ type: "response.output_text.delta", output_index: 0, content_index: 0, item_id: "m", delta: "abcdef" })],
      [eventFromPayload({ type: "response.failed", response: { status: "failed", error: { code: "server_error", message: "x" } } })],
    ]);
    expect((await types(cutAtOutputTokens(cutThenFailed, 2, perCharacter))).at(-1)).toBe("response.failed");
  });

  it("with the real tokenizer, max_tokens: 1 keeps one token", async () => {
    const countTokens = await loadTokenCounter();
    const events = (await collect(cutAtOutputTokens(recorded("text"), 1, countTokens))).flat();
    const text = events.filter((event) => event.type === "response.output_text.delta").map((event) => eventPayload(event).delta).join("");
    expect(countTokens(text)).toBe(1);
    expect(text).toBe("The");
  });
});
