// Properties of the chain router over generated sessions: a whole-history turn continues only an
// idle chain for which the planner's `continuation()` holds (the one with the longest retained
// history), forks a busy one, and otherwise starts a chain of its own; the planner then sends
// exactly the items after the routed delta start. A chained turn goes to the chain whose last
// response it names.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { turns, userItem, type Item } from "../../test/workers/support/conversation-arbitrary";
import { fuzzParameters, fuzzTimeout } from "../../test/workers/support/fuzz";
import { firstItemKey, routeChainedTurn, routeFullHistoryTurn, type RoutableChain } from "./chain-router";
import { continuation, inputItems, inputTexts, planFullHistoryTurn } from "./turn-planner";

/** Chains of a session: the conversations they retained, busy or not, loaded or not. */
const session = fc
  .record({
    chains: fc.array(
      fc.record({ turn: turns, busy: fc.boolean(), loaded: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)), cut: fc.nat() }),
      { minLength: 1, maxLength: 4 },
    ),
    target: fc.nat(),
    extra: fc.array(userItem, { minLength: 1, maxLength: 2 }),
  })
  .map(({ chains, target, extra }) => {
    const routable: RoutableChain[] = chains.map(({ turn, busy, loaded }, index) => ({
      id: `c${index}`,
      busy,
      snapshot: loaded ? turn.snapshot : undefined,
      lastResponseId: `resp_${index}`,
      fieldsKey: turn.snapshot.fieldsKey,
      firstItemKey: firstItemKey(turn.snapshot.inputItems[0]),
    }));
    for (const chain of routable) if (chain.snapshot) chain.snapshot = { ...chain.snapshot, lastResponseId: chain.lastResponseId! };
    // Most requests continue one of the chains (or a shorter or longer history of it).
    const chosen = chains[target % chains.length]!.turn;
    return { chains: routable, request: { ...chosen.next, input: [...inputItems(chosen.next.input), ...extra] } as Item };
  });

describe("routing a whole-history turn among a session's chains", () => {
  it("continues only an idle chain that continuation() holds for, the longest; forks a busy one; else a new chain", { timeout: fuzzTimeout(30_000) }, () => {
    fc.assert(
      fc.property(session, ({ chains, request }) => {
        const items = inputItems(request.input);
        const texts = inputTexts(items);
        const route = routeFullHistoryTurn(request, items, texts, chains);
        const continuing = chains.flatMap((chain) => {
          const relation = chain.snapshot ? continuation(request, items, texts, chain.snapshot) : undefined;
          return relation?.continues ? [{ chain, deltaStart: relation.deltaStart }] : [];
        });
        const idle = continuing.filter(({ chain }) => !chain.busy);
        if (route.kind === "continue") {
          const chosen = idle.find(({ chain }) => chain.id === route.chainId);
          expect(chosen, "continued a chain that is busy, unloaded or does not continue").toBeDefined();
          expect(route.deltaStart).toBe(chosen!.deltaStart);
          expect(Math.max(...idle.map(({ deltaStart }) => deltaStart))).toBe(route.deltaStart);
          // The planner agrees: on that chain's connection, a delta of the items after deltaStart.
          const plan = planFullHistoryTurn(request, chosen!.chain.snapshot, chosen!.chain.snapshot!.connectionGeneration);
          expect(plan.mode).toBe("delta");
          expect(plan.request.input).toEqual(items.slice(route.deltaStart));
          return;
        }
        expect(idle).toEqual([]);
        if (route.reason === "fork") {
          expect(continuing.map(({ chain }) => chain.id)).toContain(route.forkOf);
          expect(chains.find((chain) => chain.id === route.forkOf)!.busy).toBe(true);
        } else {
          expect(continuing).toEqual([]);
        }
      }),
      fuzzParameters(3000),
    );
  });

  it("a chained turn continues the idle chain whose last response it names, forks a busy one, else is unknown", { timeout: fuzzTimeout(30_000) }, () => {
    fc.assert(
      fc.property(session, fc.constantFrom("resp_0", "resp_1", "resp_2", "resp_9"), ({ chains }, previousId) => {
        const route = routeChainedTurn(previousId, chains);
        const named = chains.find((chain) => chain.lastResponseId === previousId);
        if (!named) expect(route).toEqual({ kind: "new", reason: "unknown_previous_response" });
        else if (named.busy) expect(route).toEqual({ kind: "new", reason: "fork", forkOf: named.id });
        else expect(route).toEqual({ kind: "continue", chainId: named.id, deltaStart: 0 });
      }),
      fuzzParameters(1000),
    );
  });
});
