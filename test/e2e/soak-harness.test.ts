// The soak's own parts: the plan is the seed's alone, the checks see what they must, and run
// straight against the fake upstream (no gateway between) the soak reports the faults it injects.
import { describe, expect, it } from "vitest";
import { checkAnthropicHttp } from "../soak/check-anthropic";
import { checkResponsesHttp, checkResponsesSocket } from "../soak/check-responses";
import { newestTag } from "../soak/fault-injector";
import type { HttpObservation } from "../soak/http-turn";
import { planSoak } from "../soak/plan";
import { defaultSoakOptions, runSoak } from "../soak/soak";
import type { Frame, SocketObservation } from "../soak/socket-turn";

const tag = "#soak:c1.t2#";
const expectation = { tag, upstream500: false };

function sse(events: Record<string, unknown>[], extra: Partial<HttpObservation> = {}): HttpObservation {
  return {
    transport: "http", status: 200, contentType: "text/event-stream", requestId: undefined, text: undefined, endedBy: "complete", durationMs: 1,
    events: events.map((event) => ({ event: String(event.type), data: JSON.stringify(event) })),
    ...extra,
  };
}

const created = { type: "response.created", response: { id: "resp_1" } };
const done = { type: "response.output_item.done", item: { type: "message", content: [{ type: "output_text", text: `reply ${tag}` }] } };
const completed = { type: "response.completed", response: { id: "resp_1", output: [] } };
const failed = { type: "response.failed", response: { id: "resp_1", error: { code: "server_error", message: "boom" } } };

describe("the plan", () => {
  const options = { ...defaultSoakOptions, turns: 300 };
  it("is the same for the same seed, and another for another seed", () => {
    expect(planSoak(options)).toEqual(planSoak(options));
    expect(planSoak({ ...options, seed: 2 })).not.toEqual(planSoak(options));
  });
  it("does not depend on the number of turns (a conversation replays with --only)", () => {
    const short = planSoak(options);
    expect(planSoak({ ...options, turns: 3000 }).slice(0, short.length)).toEqual(short);
  });
  it("follows every fault in a session with a normal turn", () => {
    for (const conversation of planSoak(options).filter((planned) => planned.session)) {
      conversation.turns.forEach((turn, index) => {
        if (turn.fault.kind !== "none") expect(conversation.turns[index + 1]?.fault.kind).toBe("none");
      });
    }
  });
});

describe("the checks", () => {
  it("a Responses stream: one terminal, last, of this turn", () => {
    expect(checkResponsesHttp(sse([created, done, completed]), true, expectation)).toMatchObject({ success: true });
    expect(checkResponsesHttp(sse([created, done]), true, expectation).badTerminal).toMatch(/^0 terminal events/);
    expect(checkResponsesHttp(sse([created, done, completed, failed]), true, expectation).badTerminal).toMatch(/^2 terminal events/);
    expect(checkResponsesHttp(sse([created, done, completed, done]), true, expectation).badTerminal).toMatch(/after the terminal/);
    const other = { ...done, item: { type: "message", content: [{ type: "output_text", text: "reply #soak:c1.t1#" }] } };
    expect(checkResponsesHttp(sse([created, other, completed]), true, expectation).foreign).toMatch(/reply of c1\.t1/);
    expect(checkResponsesHttp(sse([created, { type: "error", message: "x" }, failed]), true, expectation).gatewayError).toMatch(/bare `error`/);
  });
  it("errors: the protocol's shape, and no 500 the upstream did not send", () => {
    const answer = (status: number, text: string) => ({ ...sse([]), status, contentType: "application/json", text });
    const openAi = JSON.stringify({ error: { message: "slow down", type: "rate_limit_error", code: "rate_limit_exceeded" } });
    expect(checkResponsesHttp(answer(429, openAi), true, expectation)).toMatchObject({ success: false, outcome: "HTTP 429 rate_limit_exceeded" });
    expect(checkResponsesHttp(answer(429, openAi), true, expectation).gatewayError).toBeUndefined();
    expect(checkResponsesHttp(answer(500, openAi), true, expectation).gatewayError).toMatch(/HTTP 500 without an upstream 500/);
    expect(checkResponsesHttp(answer(500, openAi), true, { ...expectation, upstream500: true }).gatewayError).toBeUndefined();
    expect(checkAnthropicHttp(answer(429, openAi), true, expectation).gatewayError).toMatch(/not Anthropic-shaped/);
  });
  it("a WebSocket turn: frames after its terminal are counted against it", () => {
    const frames = (events: Record<string, unknown>[]): Frame[] => events.map((event) => ({ text: JSON.stringify(event), binary: false, json: event, type: String(event.type) }));
    const observation: SocketObservation = { transport: "websocket", frames: frames([created, done, completed]), endedBy: "terminal", durationMs: 1 };
    expect(checkResponsesSocket(observation, [], expectation)).toMatchObject({ success: true });
    expect(checkResponsesSocket(observation, frames([completed]), expectation).badTerminal).toMatch(/^2 terminal events/);
    const garbage: Frame = { text: "not json", binary: false, json: undefined, type: undefined };
    expect(checkResponsesSocket({ ...observation, frames: [garbage, ...observation.frames] }, [], expectation).gatewayError).toMatch(/not a JSON event/);
  });
  it("an Anthropic stream: exactly one message_stop or error", () => {
    const anthropic = (types: string[]) => ({
      ...sse([]),
      events: types.map((type) => ({ event: type, data: JSON.stringify(type === "error" ? { type, error: { type: "api_error", message: "x" } } : type === "content_block_delta" ? { type, delta: { type: "text_delta", text: tag } } : { type }) })),
    });
    expect(checkAnthropicHttp(anthropic(["message_start", "content_block_delta", "message_stop"]), true, expectation)).toMatchObject({ success: true });
    expect(checkAnthropicHttp(anthropic(["message_start", "error"]), true, expectation).badTerminal).toBeUndefined();
    expect(checkAnthropicHttp(anthropic(["message_start", "message_stop", "error"]), true, expectation).badTerminal).toMatch(/^2 terminal events/);
    expect(checkAnthropicHttp(anthropic(["message_start", "content_block_delta"]), true, expectation).badTerminal).toMatch(/^0 terminal events/);
  });
  it("a request's turn is the tag of its newest client item", () => {
    const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });
    const reply = { type: "message", role: "assistant", content: [{ type: "output_text", text: "reply #soak:c1.t2#" }] };
    expect(newestTag([user("a #soak:c1.t1#"), reply, { type: "function_call_output", call_id: "x", output: "#soak:c1.t3# ok" }])).toBe("c1.t3");
    expect(newestTag([user("a #soak:c1.t1#"), reply])).toBe("c1.t1");
  });
});

describe("the soak with no gateway between", () => {
  it("reports the faults it injects", async () => {
    const result = await runSoak({
      ...defaultSoakOptions, direct: true, turns: 120, seed: 3, concurrency: 8, deadlineMs: 3_000,
      paths: ["stateless", "client-websocket"], faults: ["close", "second-terminal", "garbage", "status-500"],
    });
    expect(result.harnessErrors).toEqual([]);
    const counts = result.report.byKind;
    expect(counts.close?.["bad terminal"]).toBeGreaterThan(0);
    expect(counts["second-terminal"]?.["bad terminal"]).toBeGreaterThan(0);
    expect(counts.garbage?.["gateway errors"]).toBeGreaterThan(0);
    expect(counts["status-500"]?.["gateway errors"]).toBe(0);
    expect(counts.none).toEqual({ hung: 0, "bad terminal": 0, foreign: 0, poisoned: 0, "gateway errors": 0 });
  }, 60_000);
});
