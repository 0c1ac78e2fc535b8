// Properties of the turn planner and the chain router over generated conversations: what a
// session sends upstream never changes the conversation the provider sees. A delta is
// `previous_response_id` + new items, so the provider sees the chain's retained input, then the
// last response's output, then the delta: that must be the request's own input, compared as the
// planner promises (docs/sessions.md) — structurally, key order and null fields ignored; output
// items on what a client can carry back; the output's reasoning items possibly missing, since
// the provider holds them. The comparison here is written from that promise, not from the
// planner's code.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters, fuzzTimeout } from "../../test/workers/support/fuzz";
import { seededRandom } from "../../test/workers/support/recorded-streams";
import { isRecord } from "../streams/responses-event";
import { firstItemKey, routeChainedTurn, routeFullHistoryTurn, type RoutableChain } from "./chain-router";
import { asFullSend, comparedFieldsKey, continuation, inputItems, inputTexts, planChainedTurn, planFullHistoryTurn, type ChainSnapshot, type TurnPlan } from "./turn-planner";

type Item = Record<string, unknown>;

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

function parsedOrText(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
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

// --- Conversations ----------------------------------------------------------------------------

const text = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("hi", "run ls", "ok", "") }, fc.string({ maxLength: 6 }), fc.string({ unit: "binary", maxLength: 4 }));
const callId = fc.constantFrom("call_1", "call_2", "call_3");
const argumentsValue = fc.dictionary(fc.constantFrom("cmd", "path", "n", "__proto__"), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });

const userItem = fc.oneof(
  fc.record({ role: fc.constant("user"), content: text }),
  fc.record({ type: fc.constant("message"), role: fc.constantFrom("user", "developer"), content: fc.array(fc.record({ type: fc.constant("input_text"), text }), { minLength: 1, maxLength: 2 }) }),
  fc.record({ type: fc.constant("function_call_output"), call_id: callId, output: text }),
);

/** What the provider answers with: its items carry ids and statuses. */
const outputItem: fc.Arbitrary<Item> = fc.oneof(
  fc.record({
    id: fc.constantFrom("msg_1", "msg_2"),
    type: fc.constant("message"),
    role: fc.constant("assistant"),
    status: fc.constant("completed"),
    content: fc.array(fc.oneof(fc.record({ type: fc.constant("output_text"), text, annotations: fc.constant([]), logprobs: fc.constant([]) }), fc.record({ type: fc.constant("refusal"), refusal: text })), { minLength: 1, maxLength: 2 }),
    phase: fc.constantFrom("commentary", "final_answer"),
  }, { requiredKeys: ["id", "type", "role", "status", "content"] }),
  fc.record(
    {
      id: fc.constantFrom("rs_1", "rs_2"),
      type: fc.constant("reasoning"),
      summary: fc.array(fc.record({ type: fc.constant("summary_text"), text }), { maxLength: 1 }),
      encrypted_content: fc.constantFrom("enc_a", "enc_b"),
    },
    { requiredKeys: ["id", "type", "summary"] },
  ),
  fc.record({ id: fc.constantFrom("fc_1", "fc_2"), type: fc.constant("function_call"), status: fc.constant("completed"), call_id: callId, name: fc.constantFrom("shell", "read"), arguments: fc.oneof(argumentsValue.map((value) => JSON.stringify(value)), text) }),
  fc.record({ id: fc.constantFrom("ws_1"), type: fc.constant("web_search_call"), status: fc.constant("completed"), action: fc.record({ type: fc.constant("search"), query: text }) }),
  fc.record({ id: fc.constantFrom("ctc_1"), type: fc.constant("custom_tool_call"), status: fc.constant("completed"), call_id: callId, name: fc.constant("apply_patch"), input: text }),
);

/** An earlier turn's output as the client keeps it in its history (any form it may take). */
const historyItem = fc.oneof({ weight: 3, arbitrary: userItem }, { weight: 2, arbitrary: outputItem });

/** The same structure with its object keys in another (seeded) order at every level. */
function reordered(value: unknown, seed: number): unknown {
  const random = seededRandom(seed);
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isRecord(node)) return node;
    const entries = Object.entries(node).filter(([, item]) => item !== undefined);
    for (let index = entries.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [entries[index], entries[other]] = [entries[other]!, entries[index]!];
    }
    // Built by JSON, so that a `__proto__` key stays an own key of the copy.
    return JSON.parse(`{${entries.map(([key, item]) => `${JSON.stringify(key)}:${JSON.stringify(walk(item))}`).join(",")}}`) as unknown;
  };
  return walk(value);
}

/** The item with `null` for fields it does not have (Codex resends `"content": null`). */
function withNullFields(item: unknown, names: string[]): unknown {
  if (!isRecord(item)) return item;
  const copy: Item = { ...item };
  for (const name of names) if (!Object.hasOwn(copy, name)) copy[name] = null;
  return copy;
}

/**
 * How a client carries an output item back, each within the promise: as is (Codex, re-ordered,
 * with null fields), or as a translating client does (Anthropic, Chat Completions: no ids or
 * statuses, arguments re-serialised, reasoning dropped or rebuilt from a thinking block).
 */
type Carry = "as_is" | "reordered" | "nulls" | "translated" | "dropped";
const carry = fc.constantFrom<Carry>("as_is", "reordered", "nulls", "translated", "dropped");

function carried(item: Item, how: Carry, seed: number): Item[] {
  switch (how) {
    case "as_is":
      return [item];
    case "reordered":
      return [reordered(item, seed) as Item];
    case "nulls":
      return [withNullFields(item, ["content", "status", "encrypted_content", "phase"]) as Item];
    case "dropped":
    case "translated":
      break;
  }
  switch (item.type) {
    case "message":
      return [{ type: "message", role: item.role, content: (item.content as Item[]).map((part) => (part.type === "refusal" ? { type: "refusal", refusal: part.refusal } : { type: "output_text", text: part.text, annotations: [] })) }];
    case "function_call": {
      const parsed = parsedOrText(item.arguments);
      return [{ type: "function_call", call_id: item.call_id, name: item.name, arguments: typeof parsed === "string" ? parsed : JSON.stringify(reordered(parsed, seed)) }];
    }
    case "reasoning":
      // Chat Completions cannot carry it; an Anthropic thinking block brings back id and content.
      return how === "dropped" ? [] : [{ type: "reasoning", id: item.id, encrypted_content: item.encrypted_content, summary: item.summary }];
    case "web_search_call":
      return [{ type: "web_search_call", id: item.id, status: "completed", action: { type: "search", query: (item.action as Item).query } }];
    default:
      return [item];
  }
}

const fields = fc.record(
  {
    model: fc.constantFrom("gpt-5.5", "gpt-5.5-mini"),
    instructions: fc.constantFrom("Be brief.", "You are Codex."),
    tools: fc.constantFrom([], [{ type: "function", name: "shell", parameters: { type: "object", properties: {} } }]),
    reasoning: fc.constantFrom({ effort: "low" }, { effort: "high", summary: "auto" }),
    store: fc.boolean(),
    temperature: fc.constantFrom(null, 0.2),
    client_metadata: fc.record({ turn: fc.nat(9) }),
    stream: fc.boolean(),
  },
  { requiredKeys: ["model"] },
);

/** One of the ways a client's next request may differ from a continuation (an edit, a retry…). */
const edit = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), item: historyItem }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), item: historyItem }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("tweak" as const), at: fc.nat(), path: fc.array(fc.nat(), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant("field" as const), name: fc.constantFrom("model", "instructions", "temperature", "tools", "metadata"), value: fc.jsonValue({ maxDepth: 1 }) }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

/** A copy with one value changed: the leaf reached by following `path` (a role, a text, an id…). */
function tweaked(value: unknown, path: number[]): unknown {
  if (Array.isArray(value) && value.length > 0) {
    const at = (path[0] ?? 0) % value.length;
    return value.map((item, index) => (index === at ? tweaked(item, path.slice(1)) : item));
  }
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined && value[key] !== null);
    if (keys.length === 0) return { ...value, extra: 1 };
    const key = keys[(path[0] ?? 0) % keys.length]!;
    return JSON.parse(JSON.stringify({ ...value, [key]: tweaked(value[key], path.slice(1)) })) as unknown;
  }
  if (typeof value === "string") return `${value}x`;
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  return "x";
}

function edited(request: Item, edits: Edit[]): Item {
  const input = [...inputItems(request.input)];
  const copy: Item = { ...request };
  for (const change of edits) {
    const at = input.length === 0 ? 0 : change.kind === "field" ? 0 : change.at % input.length;
    if (change.kind === "drop") input.splice(at, 1);
    else if (change.kind === "replace") input.splice(at, 1, change.item);
    else if (change.kind === "insert") input.splice(at, 0, change.item);
    else if (change.kind === "swap" && input.length > 0) [input[at], input[change.other % input.length]] = [input[change.other % input.length], input[at]];
    else if (change.kind === "truncate") input.length = at;
    else if (change.kind === "tweak" && input.length > 0) input[at] = tweaked(input[at], change.path);
    else if (change.kind === "field") copy[change.name] = change.value;
  }
  return { ...copy, input };
}

/** A chain's last turn and the client's next one. */
const turns = fc
  .record({
    before: fields,
    retained: fc.array(historyItem, { maxLength: 6 }),
    output: fc.array(outputItem, { maxLength: 4 }),
    retainedResent: fc.array(fc.constantFrom<Carry>("as_is", "reordered", "nulls"), { maxLength: 6 }),
    carries: fc.array(carry, { maxLength: 4 }),
    seed: fc.integer(),
    added: fc.array(userItem, { maxLength: 3 }),
    /** The first turn's input was a string (Codex's first `exec`). */
    stringInput: fc.boolean(),
    nextFields: fc.option(fc.record({ client_metadata: fc.record({ turn: fc.nat(9) }), stream: fc.boolean() }, { requiredKeys: [] }), { nil: undefined }),
    edits: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Edit[]) }, fc.array(edit, { minLength: 1, maxLength: 2 })),
    generations: fc.tuple(fc.constantFrom(1, 2), fc.constantFrom(1, 1, 2)),
  })
  .map((turn) => {
    const retained = turn.stringInput && turn.retained.length > 0 ? inputItems("hello") : turn.retained;
    const previous: Item = { ...turn.before, input: turn.stringInput && turn.retained.length > 0 ? "hello" : retained };
    const snapshot: ChainSnapshot = {
      lastResponseId: "resp_last",
      fieldsKey: comparedFieldsKey(previous),
      inputItems: retained.map((item) => JSON.stringify(item)),
      outputItems: turn.output,
      connectionGeneration: turn.generations[0],
    };
    const resent = retained.map((item, index) => carried(item as Item, turn.retainedResent[index] ?? "as_is", turn.seed + index)[0]);
    const carriedOutput = turn.output.flatMap((item, index) => carried(item, turn.carries[index] ?? "as_is", turn.seed - index));
    const continuing: Item = { ...turn.before, ...turn.nextFields, input: [...resent, ...carriedOutput, ...turn.added] };
    const next = edited(continuing, turn.edits);
    return { snapshot, previous, next, added: turn.added, continues: turn.edits.length === 0 && turn.added.length > 0, generation: turn.generations[1] };
  });

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
