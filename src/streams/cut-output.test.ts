import { describe, expect, it } from "vitest";
import { collect, rechunk, recordedStreams, streamOf } from "../../test/workers/support/recorded-streams";
import { aggregateResponse } from "./aggregate-response";
import { eventPayload, terminalEventTypes, type ResponsesEvent } from "./responses-event";
import type { EventReader } from "./event-reader";
import { readResponsesEvents } from "./sse-reader";
import { cutOutput } from "./cut-output";
import { superviseResponsesEvents } from "./supervise-responses-events";

const fullText =
  "The capital of Australia is Canberra. It was picked in 1908 as a compromise between Sydney and Melbourne, the two largest cities, which both wanted the title and refused to concede it to the other.";

function cut(stops: string[], seed: number, onStop?: (sequence: string) => void): EventReader {
  const supervised = superviseResponsesEvents(readResponsesEvents(streamOf(rechunk(recordedStreams.text, seed, 40))), { idleTimeoutMs: 5_000 });
  return cutOutput(supervised, { stopSequences: stops, onCut: (sequence) => sequence !== undefined && onStop?.(sequence) });
}

function text(events: ResponsesEvent[]): string {
  return events.filter((event) => event.type === "response.output_text.delta").map((event) => String(eventPayload(event).delta)).join("");
}

describe("stop sequences", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`cuts before the first stop, even across deltas, and ends the response (seed ${seed})`, async () => {
      let stopped: string | undefined;
      const events = (await collect(cut(["Melbourne", "1908 as"], seed, (sequence) => (stopped = sequence)))).flat();
      expect(text(events)).toBe(fullText.slice(0, fullText.indexOf("1908 as")));
      const last = eventPayload(events.at(-1)!);
      expect(last.type).toBe("response.completed");
      expect((last.response as { stop_sequence: string }).stop_sequence).toBe("1908 as");
      expect(stopped).toBe("1908 as");
      expect(events.map((event) => event.type)).toContain("response.output_item.done");
    });
  }

  it("a sequence that never appears changes nothing but the delta boundaries", async () => {
    const events = (await collect(cut(["Perth"], 7))).flat();
    expect(text(events)).toBe(fullText);
    expect(eventPayload(events.at(-1)!).type).toBe("response.completed");
  });

  it("the terminal event keeps the upstream's usage", async () => {
    const events = (await collect(cut(["Melbourne"], 3))).flat();
    const usage = (eventPayload(events.at(-1)!).response as { usage: { output_tokens: number } }).usage;
    const upstreamUsage = JSON.parse(recordedStreams.text.trim().split("\n").at(-1)!.slice("data: ".length)).response.usage;
    expect(upstreamUsage.output_tokens).toBeGreaterThan(0);
    expect(usage).toEqual(upstreamUsage);
  });

  it("a limit under the upstream's floor cuts the text after that many deltas, as an incomplete response", async () => {
    const supervised = superviseResponsesEvents(readResponsesEvents(streamOf(rechunk(recordedStreams.text, 5, 40))), { idleTimeoutMs: 5_000 });
    const events = (await collect(cutOutput(supervised, { maxTextDeltas: 1 }))).flat();
    const firstDelta = recordedStreams.text.split("\n").find((line) => line.includes('"response.output_text.delta"'))!;
    expect(text(events)).toBe(JSON.parse(firstDelta.slice("data: ".length)).delta);
    const last = eventPayload(events.at(-1)!);
    expect(last.type).toBe("response.incomplete");
    expect(last.response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(events.filter((event) => terminalEventTypes.has(event.type))).toHaveLength(1);
  });

  it("the non-streaming answer is cut the same way", async () => {
    const response = await aggregateResponse(cut(["Sydney"], 9));
    const message = (response.output as { type: string; content?: { text: string }[] }[]).find((item) => item.type === "message")!;
    expect(message.content![0]!.text).toBe(fullText.slice(0, fullText.indexOf("Sydney")));
    expect(response.stop_sequence).toBe("Sydney");
  });
});
