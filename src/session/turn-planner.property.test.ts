// Properties of the turn planner over generated conversations: what a
// session sends upstream never changes the conversation the provider sees. A delta is
// `previous_response_id` + new items, so the provider sees the chain's retained input, then the
// last response's output, then the delta: that must be the request's own input, compared as the
// planner promises (docs/sessions.md) — structurally, key order and null fields ignored; output
// items on what a client can carry back; the output's reasoning items possibly missing, since
// the provider holds them. The comparison here is written from that promise, not from the
// planner's code. The conversations are test/workers/support/conversation-arbitrary.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters, fuzzTimeout } from "../../test/workers/support/fuzz";
import { parsedOrText, turns, type Item } from "../../test/workers/support/conversation-arbitrary";
import { isRecord } from "../streams/responses-event";
import { asFullSend, inputItems, planChainedTurn, planFullHistoryTurn, type ChainSnapshot, type TurnPlan } from "./turn-planner";

// --- The promise, written out -----------------------------------------------------------------

/** Equal as JSON structures, object key order and null (or absent) fields ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((value, index) => sameJson(value, b[index]));
  if (isRecord(a) && isRecord(b)) {
    const present = (record: Record<string, unknown>) => Object.keys(record).filter((key) => record[key] !== null && record[key] !== undefined);
    const keys = present(a);
    return keys.length === present(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
  }
  return Object.is(a, b) || (a === 0 && b === 0);
}

/** Whether `item` is what a client may send back for the provider's output item `output`. */
function carriedBack(output: unknown, item: unknown): boolean {
  if (!isRecord(output) || !isRecord(item)) return sameJson(output, item);
  if (item.type !== output.type) return false;
  switch (output.type) {
    case "message": {
      // Text (or refusal) and role; ids, statuses, annotations and logprobs do not come back.
      const parts = (message: Item) => (Array.isArray(message.content) ? message.content.map((part) => (isRecord(part) ? [part.type, part.text ?? part.refusal] : part)) : message.content);
      return item.role === output.role && sameJson(parts(item), parts(output));
    }
    case "function_call":
      return item.call_id === output.call_id && item.name === output.name && sameJson(parsedOrText(item.arguments), parsedOrText(output.arguments));
    case "reasoning":
      return output.encrypted_content ? item.encrypted_content === output.encrypted_content : item.id === output.id && !item.encrypted_content;
    case "web_search_call": {
      const query = (search: Item) => (isRecord(search.action) ? search.action.query : undefined);
      return item.id === output.id && query(item) === query(output);
    }
    default: {
      const { id: _id, status: _status, ...rest } = output;
      const { id: _itemId, status: _itemStatus, ...itemRest } = item;
      return sameJson(rest, itemRest);
    }
  }
}

/**
 * Whether the provider's view — `retained`, then `output`, then `delta` — is the request's
 * `items`: retained items structurally equal, output items carried back (reasoning ones may be
 * missing), the delta exactly the request's last items.
 */
function sameConversation(retained: unknown[], output: unknown[], delta: unknown[], items: unknown[]): boolean {
  if (items.length < retained.length + delta.length) return false;
  if (!retained.every((item, index) => sameJson(item, items[index]))) return false;
  const tail = items.slice(items.length - delta.length);
  if (!delta.every((item, index) => sameJson(item, tail[index]))) return false;
  const middle = items.slice(retained.length, items.length - delta.length);
  // Output items in order, each carried back or (a reasoning item) left out: an alignment.
  const aligns = (from: number, at: number): boolean => {
    if (from === output.length) return at === middle.length;
    const item = output[from];
    if (at < middle.length && carriedBack(item, middle[at]) && aligns(from + 1, at + 1)) return true;
    return isRecord(item) && item.type === "reasoning" && aligns(from + 1, at);
  };
  return aligns(0, 0);
}

const uncompared = new Set(["input", "previous_response_id", "client_metadata", "stream", "generate", "background", "type"]);

/** Every field but the input (and those that change every turn) the same. */
function sameFields(a: Item, b: Item): boolean {
  const compared = (request: Item) => Object.fromEntries(Object.entries(request).filter(([key, value]) => !uncompared.has(key) && value !== undefined));
  const [x, y] = [compared(a), compared(b)];
  return Object.keys(x).length === Object.keys(y).length && Object.keys(x).every((key) => Object.hasOwn(y, key) && JSON.stringify(x[key]) === JSON.stringify(y[key]));
}

/** The request sent is the client's, but for the fields the plan may change. */
function expectSameOtherFields(sent: Item, request: Item, changed: string[]): void {
  const rest = (value: Item) => Object.fromEntries(Object.entries(value).filter(([key]) => !changed.includes(key)));
  expect(rest(sent)).toEqual(rest(request));
}

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

// --- Properties -------------------------------------------------------------------------------

/** The plan's checks for a request that carries its whole history. */
function expectFaithfulPlan(plan: TurnPlan, request: Item, snapshot: ChainSnapshot | undefined, previous: Item | undefined, generation: number): void {
  const items = inputItems(request.input);
  expect(plan.fullInput).toEqual(items.map((item) => JSON.stringify(item)));
  if (plan.mode === "full") {
    // The request's input goes as it is, and nothing chains it.
    expect(plan.request.input).toBe(request.input);
    expect("previous_response_id" in plan.request).toBe(false);
    expectSameOtherFields(plan.request, request, ["previous_response_id"]);
    return;
  }
  expect(snapshot).toBeDefined();
  expect(plan.request.previous_response_id).toBe(snapshot!.lastResponseId);
  expect(generation).toBe(snapshot!.connectionGeneration);
  expect(sameFields(request, previous!)).toBe(true);
  expectSameOtherFields(plan.request, request, ["input", "previous_response_id"]);
  const delta = plan.request.input as unknown[];
  expect(delta.length).toBeGreaterThan(0);
  const retained = snapshot!.inputItems.map((text) => JSON.parse(text) as unknown);
  expect(sameConversation(retained, snapshot!.outputItems, delta, items), "the provider would see another conversation").toBe(true);
  // Sent again in full (a lost connection), it is the request's own input.
  const full = asFullSend(plan, "reconnect")!;
  expect(full.mode).toBe("full");
  expect("previous_response_id" in full.request).toBe(false);
  expect(full.request.input).toEqual(roundTrip(items));
}

describe("a request that resends its whole history", () => {
  it("as a delta, lets the provider see exactly the request's conversation; in full, goes as it is", { timeout: fuzzTimeout(30_000) }, () => {
    fc.assert(
      fc.property(turns, ({ snapshot, previous, next, generation }) => {
        expectFaithfulPlan(planFullHistoryTurn(next, snapshot, generation), next, snapshot, previous, generation);
        expectFaithfulPlan(planFullHistoryTurn(next, undefined, generation), next, undefined, undefined, generation);
      }),
      fuzzParameters(4000),
    );
  });

  it("a turn that continues its chain within the promise (re-ordered keys, null fields, translated or dropped output) goes as a delta of its new items", { timeout: fuzzTimeout(30_000) }, () => {
    fc.assert(
      fc.property(
        turns.filter((turn) => turn.continues),
        ({ snapshot, next, added }) => {
          const plan = planFullHistoryTurn(next, snapshot, snapshot.connectionGeneration);
          expect(plan.mode, plan.reason).toBe("delta");
          expect(plan.request.input).toEqual(added);
        },
      ),
      fuzzParameters(3000),
    );
  });
});

describe("a request chained by its client (previous_response_id + new items)", () => {
  it("goes as it is on its connection, and in full — retained input, output, new items — on another; asFullSend likewise", { timeout: fuzzTimeout(30_000) }, () => {
    fc.assert(
      fc.property(turns, fc.constantFrom("resp_last", "resp_other"), fc.boolean(), ({ snapshot, next, added, generation }, previousId, known) => {
        const request: Item = { ...next, previous_response_id: previousId, input: added };
        const held = known ? snapshot : undefined;
        const plan = planChainedTurn(request, held, generation);
        const chainedToUs = held !== undefined && previousId === held.lastResponseId;
        const fullInput = chainedToUs ? [...held.inputItems, ...held.outputItems.map((item) => JSON.stringify(item)), ...added.map((item) => JSON.stringify(item))] : null;
        expect(plan.fullInput).toEqual(fullInput);
        if (!chainedToUs || generation === held.connectionGeneration) {
          expect(plan.mode).toBe("delta");
          expect(plan.request).toBe(request);
        } else {
          expect(plan).toMatchObject({ mode: "full", reason: "reconnect" });
        }
        const full = asFullSend(plan, "reconnect");
        if (plan.mode === "full") expect(full).toBe(plan);
        if (fullInput === null) {
          expect(full).toBeUndefined();
          return;
        }
        // In full (on another connection, or after a lost one): retained input + output + the new items.
        const sent = full!.request;
        expect("previous_response_id" in sent).toBe(false);
        expectSameOtherFields(sent, request, ["input", "previous_response_id"]);
        expect(sent.input).toEqual(roundTrip([...held!.inputItems.map((text) => JSON.parse(text) as unknown), ...held!.outputItems, ...added]));
      }),
      fuzzParameters(3000),
    );
  });
});
