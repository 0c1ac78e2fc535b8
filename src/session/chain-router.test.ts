import { describe, expect, it } from "vitest";
import { capturedBody } from "../../test/workers/support/client-fixtures";
import { firstItemKey, routeChainedTurn, routeFullHistoryTurn, type RoutableChain } from "./chain-router";
import { fieldsKey, inputItems, inputTexts, type ChainSnapshot } from "./turn-planner";

/** A chain that retained `request` and answered with `output`. */
function chainOf(id: string, request: Record<string, unknown>, output: unknown[], busy = false): RoutableChain {
  const texts = (request.input as unknown[]).map((item) => JSON.stringify(item));
  const snapshot: ChainSnapshot = { lastResponseId: `resp_${id}`, fieldsKey: fieldsKey(request), inputItems: texts, outputItems: output, connectionGeneration: 1 };
  return { id, busy, snapshot, lastResponseId: snapshot.lastResponseId, fieldsKey: snapshot.fieldsKey, firstItemKey: firstItemKey(texts[0]) };
}

const answer = { type: "message", role: "assistant", content: [{ type: "output_text", text: "ok" }] };
const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });

function next(request: Record<string, unknown>, ...items: unknown[]): Record<string, unknown> {
  return { ...request, input: [...(request.input as unknown[]), answer, ...items] };
}

function route(request: Record<string, unknown>, chains: RoutableChain[]) {
  const items = inputItems(request.input);
  return routeFullHistoryTurn(request, items, inputTexts(items), chains);
}

describe("routing a turn to its chain (captured Codex requests)", () => {
  const codex = capturedBody("codexTurn1");

  it("a session with no chains: the first turn", () => {
    expect(route(codex, [])).toEqual({ kind: "new", reason: "first_turn" });
  });

  it("continues the idle chain whose history it extends, whatever else the session holds", () => {
    const side = { ...codex, model: "gpt-5.5-mini", input: [user("a title please")] };
    const chains = [chainOf("side", side, [answer]), chainOf("main", codex, [answer])];
    expect(route(next(codex, user("more")), chains)).toMatchObject({ kind: "continue", chainId: "main" });
  });

  it("the chain it extends is busy: a fork, at once", () => {
    expect(route(next(codex, user("more")), [chainOf("main", codex, [answer], true)])).toEqual({ kind: "new", reason: "fork", forkOf: "main" });
  });

  it("of two chains it extends, the one with the longer history", () => {
    const longer = next(codex, user("two"));
    const chains = [chainOf("short", codex, [answer]), chainOf("long", longer, [answer])];
    expect(route(next(longer, user("three")), chains)).toMatchObject({ kind: "continue", chainId: "long" });
  });

  it("a conversation no chain extends: why it starts a chain of its own", () => {
    const main = chainOf("main", codex, [answer]);
    expect(route({ ...next(codex, user("x")), model: "gpt-5.5-mini" }, [main])).toEqual({ kind: "new", reason: "fields_changed" });
    const edited = { ...codex, input: [...(codex.input as unknown[]).slice(0, -1), user("edited")] };
    // The same conversation rewritten starts over on its own chain (and socket), when it is idle.
    expect(route(edited, [main])).toEqual({ kind: "rewrite", chainId: "main", reason: "history_edited" });
    expect(route(edited, [chainOf("main", codex, [answer], true)])).toEqual({ kind: "new", reason: "history_edited" });
    expect(route({ ...codex, input: [user("something else entirely")] }, [main])).toEqual({ kind: "new", reason: "new_chain" });
  });

  it("a turn chained by its client goes to the chain whose last response it names", () => {
    const chains = [chainOf("a", codex, [answer]), chainOf("b", codex, [answer], true)];
    expect(routeChainedTurn("resp_a", chains)).toMatchObject({ kind: "continue", chainId: "a" });
    expect(routeChainedTurn("resp_b", chains)).toEqual({ kind: "new", reason: "fork", forkOf: "b" });
    expect(routeChainedTurn("resp_unknown", chains)).toEqual({ kind: "new", reason: "unknown_previous_response" });
  });
});
