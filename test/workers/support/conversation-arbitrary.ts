/**
 * Conversations for the turn planner's and the chain router's property tests: a chain's last
 * turn (its request, the provider's output, the snapshot the session keeps) and the client's
 * next request — its history resent as clients resend it (as is, keys re-ordered, null fields
 * added, output translated as an Anthropic or Chat Completions client carries it back, reasoning
 * dropped), new items added, and sometimes an edit (an item dropped, replaced, inserted, swapped,
 * changed in one value; the history cut; a field changed).
 */
import fc from "fast-check";
import { comparedFieldsKey, inputItems, type ChainSnapshot } from "../../../src/session/turn-planner";
import { isRecord } from "../../../src/streams/responses-event";
import { seededRandom } from "./recorded-streams";

export type Item = Record<string, unknown>;

/** A function call's arguments as a value, or the text itself when it is not JSON. */
export function parsedOrText(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const text = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("hi", "run ls", "ok", "") }, fc.string({ maxLength: 6 }), fc.string({ unit: "binary", maxLength: 4 }));
const callId = fc.constantFrom("call_1", "call_2", "call_3");
const argumentsValue = fc.dictionary(fc.constantFrom("cmd", "path", "n", "__proto__"), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });

export const userItem = fc.oneof(
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

/** A chain's last turn and the client's next one, and whether that one continues it within the promise. */
export const turns = fc
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
