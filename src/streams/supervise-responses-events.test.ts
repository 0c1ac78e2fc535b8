import { describe, expect, it } from "vitest";
import { collect, collectText, rechunk, recordedStreams, streamOf, type RecordedStreamName } from "../../test/workers/support/recorded-streams";
import { aggregateResponse } from "./aggregate-response";
import { encodeWithKeepalive } from "./keepalive-encoder";
import { eventPayload, terminalEventTypes, type ResponsesEvent } from "./responses-event";
import type { EventBatch, PullReader } from "./event-reader";
import { readResponsesEvents } from "./sse-reader";
import { encodeResponsesBatch, encodeServerSentEvent, encodeSseComment } from "./sse-writer";
import { superviseResponsesEvents } from "./supervise-responses-events";

const seeds = [1, 7, 42, 1234, 99991];

async function collectEvents(source: PullReader<EventBatch>): Promise<ResponsesEvent[]> {
  return (await collect(source)).flat();
}

function supervised(name: RecordedStreamName, seed: number, idleTimeoutMs = 5_000) {
  const events = readResponsesEvents(streamOf(rechunk(recordedStreams[name], seed)));
  return superviseResponsesEvents(events, { idleTimeoutMs });
}

/** The reference: each `data:` line of the file, in order, as the upstream wrote it. */
function recordedData(name: RecordedStreamName): string[] {
  return recordedStreams[name]
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice("data: ".length));
}

describe("reading recorded streams", () => {
  for (const name of Object.keys(recordedStreams) as RecordedStreamName[]) {
    it(`${name}: every event arrives intact whatever the chunking`, async () => {
      for (const seed of seeds) {
        const events = await collectEvents(readResponsesEvents(streamOf(rechunk(recordedStreams[name], seed))));
        expect(events.map((event) => event.data)).toEqual(recordedData(name));
        for (const event of events) expect(eventPayload(event).type).toBe(event.type);
      }
    });
  }
});

describe("supervision: exactly one terminal event", () => {
  const passThrough: RecordedStreamName[] = ["text", "reasoningText", "functionCallsParallel", "customToolCall", "refusal", "incompleteMaxTokens", "failed", "chatgptEmptyOutput", "webSearch"];
  for (const name of passThrough) {
    it(`${name}: passes through untouched, ends on its own terminal`, async () => {
      const events = await collectEvents(supervised(name, 3));
      expect(events.map((event) => event.data)).toEqual(recordedData(name));
      expect(events.filter((event) => terminalEventTypes.has(event.type))).toHaveLength(1);
      expect(terminalEventTypes.has(events.at(-1)!.type)).toBe(true);
    });
  }

  it("keeps unknown event types and their fields (codex.rate_limits, response.metadata)", async () => {
    const types = (await collectEvents(supervised("chatgptEmptyOutput", 5))).map((event) => event.type);
    expect(types).toContain("codex.rate_limits");
    expect(types).toContain("response.metadata");
  });

  it("a truncated stream ends with response.failed naming the early close", async () => {
    const events = await collectEvents(supervised("truncated", 11));
    const last = events.at(-1)!;
    expect(last.type).toBe("response.failed");
    const response = eventPayload(last).response as { id: string; error: { code: string; message: string } };
    expect(response.error.code).toBe("upstream_disconnected");
    expect(response.error.message).toMatch(/closed the stream before the response completed/);
    // The synthetic failure keeps the upstream's response id and continues its numbering.
    expect(response.id).toBe((eventPayload(events[0]!).response as { id: string }).id);
    expect(eventPayload(last).sequence_number).toBe(events.length - 1);
  });

  it("a flat error event becomes response.failed with the upstream's code", async () => {
    const events = await collectEvents(supervised("errorEvent", 2));
    expect(events.map((event) => event.type)).toEqual(["response.created", "response.failed"]);
    const response = eventPayload(events[1]!).response as { error: { code: string } };
    expect(response.error.code).toBe("server_is_overloaded");
  });

  it("a connection that breaks mid-stream ends with response.failed", async () => {
    const bytes = rechunk(recordedStreams.text, 9).slice(0, 6);
    let index = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (index < bytes.length) controller.enqueue(bytes[index++]!);
        else controller.error(new Error("connection reset"));
      },
    });
    const events = await collectEvents(superviseResponsesEvents(readResponsesEvents(broken), { idleTimeoutMs: 5_000 }));
    expect(events.at(-1)!.type).toBe("response.failed");
    expect(JSON.stringify(eventPayload(events.at(-1)!))).toContain("connection to the upstream broke");
  });

  it("an upstream silent past the idle limit is cut off and cancelled", async () => {
    let cancelled = false;
    const silent = new ReadableStream<EventBatch>({
      start(controller) {
        controller.enqueue([{ type: "response.created", data: JSON.stringify({ type: "response.created", sequence_number: 0, response: { id: "resp_x" } }) }]);
      },
      cancel() {
        cancelled = true;
      },
    });
    const events = await collectEvents(superviseResponsesEvents(silent.getReader(), { idleTimeoutMs: 50 }));
    expect(events.map((event) => event.type)).toEqual(["response.created", "response.failed"]);
    expect(JSON.stringify(eventPayload(events[1]!))).toContain("upstream_idle_timeout");
    expect(cancelled).toBe(true);
  });

  it("the JSON type decides, not the event: line (a backend that labels every event 'message')", async () => {
    const relabelled = recordedStreams.text.replace(/^event: .*$/gm, "event: message");
    const events = await collectEvents(superviseResponsesEvents(readResponsesEvents(streamOf(rechunk(relabelled, 4))), { idleTimeoutMs: 5_000 }));
    expect(events.map((event) => event.data)).toEqual(recordedData("text"));
    expect(events.filter((event) => terminalEventTypes.has(event.type)).map((event) => event.type)).toEqual(["response.completed"]);
  });

  it("text that is no event (a broken line, not JSON) goes no further", async () => {
    const garbage = recordedStreams.text.replace("event: response.in_progress", 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":\n\ndata: this is not JSON\n\nevent: response.in_progress');
    const events = await collectEvents(superviseResponsesEvents(readResponsesEvents(streamOf(rechunk(garbage, 6))), { idleTimeoutMs: 5_000 }));
    expect(events.map((event) => event.data)).toEqual(recordedData("text"));
  });

  it("time spent writing to a slow client does not count as upstream silence", async () => {
    // Two batches ready at once; the consumer takes longer than the idle limit between reads,
    // as a write blocked by a slow client does.
    const ready = new ReadableStream<EventBatch>({
      start(controller) {
        controller.enqueue([{ type: "response.created", data: JSON.stringify({ type: "response.created", response: { id: "resp_slow" } }) }]);
        controller.enqueue([{ type: "response.completed", data: JSON.stringify({ type: "response.completed", response: { id: "resp_slow", status: "completed" } }) }]);
        controller.close();
      },
    });
    const reader = superviseResponsesEvents(ready.getReader(), { idleTimeoutMs: 60 });
    const types: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      types.push(...value.map((event) => event.type));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(types).toEqual(["response.created", "response.completed"]);
  });

  it("a client that goes away cancels the upstream", async () => {
    let cancelled = false;
    const endless = new ReadableStream<EventBatch>({
      pull(controller) {
        controller.enqueue([{ type: "response.output_text.delta", data: "{}" }]);
      },
      cancel() {
        cancelled = true;
      },
    });
    const reader = superviseResponsesEvents(endless.getReader(), { idleTimeoutMs: 5_000 });
    await reader.read();
    await reader.cancel("client gone");
    expect(cancelled).toBe(true);
  });
});

describe("non-streaming aggregation", () => {
  it("returns the terminal response object", async () => {
    const response = await aggregateResponse(supervised("functionCallsParallel", 4));
    expect(response.status).toBe("completed");
    expect((response.output as unknown[]).map((item) => (item as { type: string }).type)).toEqual(["reasoning", "function_call", "function_call"]);
  });

  it("rebuilds output from output_item.done when the terminal output is empty", async () => {
    for (const seed of seeds) {
      const response = await aggregateResponse(supervised("chatgptEmptyOutput", seed));
      const output = response.output as { type: string }[];
      expect(output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    }
  });

  it("keeps an incomplete response as a response", async () => {
    const response = await aggregateResponse(supervised("incompleteMaxTokens", 4));
    expect(response.status).toBe("incomplete");
    expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  it("turns failures into errors with a status", async () => {
    await expect(aggregateResponse(supervised("failed", 4))).rejects.toMatchObject({ status: 502, code: "server_error" });
    await expect(aggregateResponse(supervised("errorEvent", 4))).rejects.toMatchObject({ status: 503, code: "server_is_overloaded" });
    await expect(aggregateResponse(supervised("truncated", 4))).rejects.toMatchObject({ code: "upstream_disconnected" });
  });
});

describe("SSE writing", () => {
  it("re-emits recorded streams byte-equivalently (same events, same data)", async () => {
    const encoded = await collectText(
      encodeWithKeepalive(supervised("reasoningText", 8), {
        encode: encodeResponsesBatch,
        keepalive: () => encodeSseComment("keepalive"),
        intervalMs: 10_000,
      }),
    );
    const reparsed = await collectEvents(readResponsesEvents(streamOf([new TextEncoder().encode(encoded)])));
    expect(reparsed.map((event) => event.data)).toEqual(recordedData("reasoningText"));
  });

  it("sends a comment keepalive while the source is silent", async () => {
    let release: () => void = () => {};
    const source = new ReadableStream<EventBatch>({
      async pull(controller) {
        await new Promise<void>((resolve) => (release = resolve));
        controller.enqueue([{ type: "response.completed", data: "{}" }]);
        controller.close();
      },
    });
    const reader = encodeWithKeepalive(source.getReader(), {
      encode: encodeResponsesBatch,
      keepalive: () => encodeSseComment("keepalive"),
      intervalMs: 60,
    }).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(": keepalive\n\n");
    release();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain("event: response.completed");
  });

  it("writes multi-line data as several data lines", () => {
    expect(new TextDecoder().decode(encodeServerSentEvent("x", "a\nb"))).toBe("event: x\ndata: a\ndata: b\n\n");
  });
});
