import { describe, expect, it } from "vitest";
import { capturedBody } from "../../test/workers/support/client-fixtures";
import { asFullSend, canonicalJson, comparedFieldsKey, planChainedTurn, planFullHistoryTurn, type ChainSnapshot } from "./turn-planner";

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reversedKeys(item)]));
  return value;
}

// Codex's tool round trip: the first request's input, then the second request resending it with
// the first response's output (a reasoning item and the function call) and the call's output.
const firstInput = capturedBody("codexToolRequest1").input as unknown[];
const secondInput = capturedBody("codexToolRequest2").input as unknown[];
const firstOutput = secondInput.slice(firstInput.length, -1);
const functionCallIndex = secondInput.findIndex((item) => (item as { type?: string }).type === "function_call");

/** The snapshot the session holds after Codex's first tool request completed. */
function snapshotAfterFirstToolRequest(): ChainSnapshot {
  const first = capturedBody("codexToolRequest1");
  return {
    lastResponseId: "resp_first",
    fieldsKey: comparedFieldsKey(first),
    inputItems: (first.input as unknown[]).map((item) => JSON.stringify(item)),
    // As the provider sent it: another key order than Codex's resend.
    outputItems: firstOutput.map(reversedKeys),
    connectionGeneration: 1,
  };
}

describe("HTTP clients resending their whole history (captured Codex requests)", () => {
  it("the first turn is a full send", () => {
    const plan = planFullHistoryTurn(capturedBody("codexTurn1"), undefined, 1);
    expect(plan).toMatchObject({ mode: "full", reason: "first_turn" });
    expect(plan.request.previous_response_id).toBeUndefined();
  });

  it("the tool-output turn becomes previous_response_id + the function_call_output only", () => {
    const second = capturedBody("codexToolRequest2");
    const plan = planFullHistoryTurn(second, snapshotAfterFirstToolRequest(), 1);
    expect(plan.mode).toBe("delta");
    expect(plan.request.previous_response_id).toBe("resp_first");
    expect(firstOutput.map((item) => (item as { type: string }).type)).toEqual(["reasoning", "function_call"]);
    expect(plan.request.input).toEqual([secondInput.at(-1)]);
    expect((secondInput.at(-1) as { type: string }).type).toBe("function_call_output");
    // client_metadata changes every turn and is not compared, but is still sent.
    expect(plan.request.client_metadata).toEqual(second.client_metadata);
    expect(plan.fullInput).toHaveLength(secondInput.length);
  });

  it("items resent with null fields the provider left out still match (Codex's reasoning items)", () => {
    const snapshot = { ...snapshotAfterFirstToolRequest(), outputItems: [{ type: "reasoning", id: "rs_1", summary: [], encrypted_content: "x" }] };
    const first = capturedBody("codexToolRequest1");
    const request = { ...first, input: [...(first.input as unknown[]), { id: "rs_1", type: "reasoning", summary: [], content: null, encrypted_content: "x" }, { role: "user", content: "next" }] };
    expect(planFullHistoryTurn(request, snapshot, 1).mode).toBe("delta");
  });

  it("a client that cannot carry reasoning back (Chat Completions) still continues as a delta", () => {
    const reasoning = { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "x" };
    const message = { type: "message", role: "assistant", content: [{ type: "output_text", text: "hi", annotations: [] }] };
    const snapshot = { ...snapshotAfterFirstToolRequest(), outputItems: [reasoning, message] };
    const first = capturedBody("codexToolRequest1");
    const request = { ...first, input: [...(first.input as unknown[]), message, { role: "user", content: "next" }] };
    const plan = planFullHistoryTurn(request, snapshot, 1);
    expect(plan.mode).toBe("delta");
    expect(plan.request.input).toEqual([{ role: "user", content: "next" }]);
    // Anything else the client leaves out of the output is an edit.
    const dropped = { ...first, input: [...(first.input as unknown[]), { role: "user", content: "next" }] };
    expect(planFullHistoryTurn(dropped, { ...snapshot, outputItems: [message] }, 1)).toMatchObject({ mode: "full", reason: "history_edited" });
  });

  it("a web search an Anthropic client carries back (id and query, no sources) still matches", () => {
    const search = { id: "ws_1", type: "web_search_call", status: "completed", action: { type: "search", query: "webb launch", sources: [{ type: "url", url: "https://nasa.gov" }] } };
    const snapshot = { ...snapshotAfterFirstToolRequest(), outputItems: [search] };
    const first = capturedBody("codexToolRequest1");
    const carried = { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "webb launch" } };
    const request = { ...first, input: [...(first.input as unknown[]), carried, { role: "user", content: "next" }] };
    expect(planFullHistoryTurn(request, snapshot, 1).mode).toBe("delta");
  });

  it.each([
    ["another connection", (request: Record<string, unknown>) => request, 2, "reconnect"],
    ["a changed field", (request: Record<string, unknown>) => ({ ...request, reasoning: { effort: "high" } }), 1, "fields_changed"],
    ["an edited earlier item", (request: Record<string, unknown>) => ({ ...request, input: (request.input as unknown[]).map((item, index) => (index === 2 ? { role: "user", content: "edited" } : item)) }), 1, "history_edited"],
    ["a changed output item", (request: Record<string, unknown>) => ({ ...request, input: (request.input as unknown[]).map((item, index) => (index === functionCallIndex ? { ...(item as object), arguments: "{}" } : item)) }), 1, "history_edited"],
    ["nothing new", (request: Record<string, unknown>) => ({ ...request, input: (request.input as unknown[]).slice(0, -1) }), 1, "history_edited"],
    ["a rolled-back history", (request: Record<string, unknown>) => ({ ...request, input: (request.input as unknown[]).slice(0, 3) }), 1, "history_edited"],
  ])("%s → a full send", (_, change, generation, reason) => {
    const plan = planFullHistoryTurn(change(capturedBody("codexToolRequest2")), snapshotAfterFirstToolRequest(), generation);
    expect(plan).toMatchObject({ mode: "full", reason });
    expect(plan.request.previous_response_id).toBeUndefined();
  });

  it("asFullSend turns a delta back into the whole input", () => {
    const plan = planFullHistoryTurn(capturedBody("codexToolRequest2"), snapshotAfterFirstToolRequest(), 1);
    const full = asFullSend(plan, "reconnect")!;
    expect(full.request.previous_response_id).toBeUndefined();
    expect(full.request.input).toEqual(capturedBody("codexToolRequest2").input);
  });
});

describe("WebSocket clients chaining themselves (captured Codex frames)", () => {
  const warmUp = capturedBody("codexWebSocketWarmUp");
  const snapshot: ChainSnapshot = {
    lastResponseId: "resp_warm",
    fieldsKey: comparedFieldsKey(warmUp),
    inputItems: (warmUp.input as unknown[]).map((item) => JSON.stringify(item)),
    outputItems: [],
    connectionGeneration: 3,
  };
  const turn: Record<string, unknown> = { ...capturedBody("codexWebSocketTurn"), previous_response_id: "resp_warm" };

  it("a chain on our latest response and connection is forwarded as is", () => {
    const plan = planChainedTurn(turn, snapshot, 3);
    expect(plan.mode).toBe("delta");
    expect(plan.request).toBe(turn);
    expect(plan.fullInput).toHaveLength((warmUp.input as unknown[]).length + (turn.input as unknown[]).length);
  });

  it("after a reconnect the chain is rebuilt into a full input", () => {
    const plan = planChainedTurn(turn, snapshot, 4);
    expect(plan).toMatchObject({ mode: "full", reason: "reconnect" });
    expect(plan.request.input).toEqual([...(warmUp.input as unknown[]), ...(turn.input as unknown[])]);
  });

  it("an unknown previous response is passed through for the provider to judge", () => {
    const plan = planChainedTurn({ ...turn, previous_response_id: "resp_other" }, snapshot, 3);
    expect(plan).toMatchObject({ mode: "delta", reason: "unknown_previous_response", fullInput: null });
  });
});

describe("canonical JSON", () => {
  it("ignores key order and null fields, keeps array order", () => {
    expect(canonicalJson({ b: 1, a: [2, 1], c: null })).toBe(canonicalJson({ a: [2, 1], b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});
