import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capturedBody } from "../../test/workers/support/client-fixtures";
import { fuzzParameters } from "../../test/workers/support/fuzz";
import { closingBracket, knownInput, parseWithKnownInput, type KnownInput } from "./resent-history";
import { fieldsKey, planFullHistoryTurn } from "./turn-planner";

const codex = capturedBody("codexToolRequest2");
const history = codex.input as unknown[];

function known(items: unknown[], previous?: KnownInput): KnownInput {
  return knownInput(items, items.map((item) => JSON.stringify(item)), previous)!;
}

const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });

describe("recognising a resent history", () => {
  it("parses only around the known input, and gives what JSON.parse gives", () => {
    const previous = known(history.slice(0, 4));
    const text = JSON.stringify({ ...codex, input: [...history, user("next")] });
    const parsed = parseWithKnownInput(text, previous)!;
    expect(parsed).toEqual(JSON.parse(text));
    expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(text)));
    // The known items are reused, not parsed again.
    const input = parsed.input as unknown[];
    for (let index = 0; index < 4; index += 1) expect(input[index]).toBe(previous.items[index]);
  });

  it("tells the planner the texts it already knows (same strings, nothing serialised again)", () => {
    const previous = known(history);
    const text = JSON.stringify({ ...codex, input: [...history, user("next")] });
    const request = parseWithKnownInput(text, previous)!;
    const snapshot = { lastResponseId: "resp_1", fieldsKey: fieldsKey(request), inputItems: previous.texts, outputItems: [], connectionGeneration: 1 };
    const plan = planFullHistoryTurn(request, snapshot, 1);
    expect(plan.mode).toBe("delta");
    expect(plan.fullInput!.slice(0, history.length).every((text, index) => text === previous.texts[index])).toBe(true);
    expect(plan.request.input).toEqual([user("next")]);
  });

  it("works when the input is the last field, or the first", () => {
    const previous = known(history.slice(0, 2));
    const last = `{"model":"m","input":[${history.map((item) => JSON.stringify(item)).join(",")}]}`;
    expect(parseWithKnownInput(last, previous)).toEqual(JSON.parse(last));
    const first = `{"input":[${history.slice(0, 2).map((item) => JSON.stringify(item)).join(",")}],"model":"m"}`;
    expect(parseWithKnownInput(first, previous)).toEqual(JSON.parse(first));
  });

  it.each([
    ["an edited retained item", () => JSON.stringify({ ...codex, input: [user("edited"), ...history.slice(1)] })],
    ["other whitespace", () => JSON.stringify({ ...codex, input: history }, null, 1)],
    ["a retained item with its keys in another order", () => JSON.stringify({ ...codex, input: [reordered(history[0]), ...history.slice(1)] })],
    ["a shorter history", () => JSON.stringify({ ...codex, input: history.slice(0, 1) })],
    ["an 'input' key nested in an earlier field", () => `{"model":"m","metadata":{"input":[${history.slice(0, 2).map((item) => JSON.stringify(item)).join(",")}]},"input":[]}`],
    ["a retained item that only begins the same", () => JSON.stringify({ ...codex, input: [...history.slice(0, 1), { ...(history[1] as object), extra: 1 }] })],
  ])("is not recognised with %s (parsed the ordinary way instead)", (_, text) => {
    expect(parseWithKnownInput(text(), known(history.slice(0, 2)))).toBeUndefined();
  });

  it("the joined text always equals the texts joined, extended turn after turn or not", () => {
    const first = known(history.slice(0, 3));
    const extended = knownInput([...first.items, user("b")], [...first.texts, JSON.stringify(user("b"))], first)!;
    expect(extended.joined).toBe(extended.texts.join(","));
    // A history edited in the middle but ending the same is not an extension: joined is rebuilt.
    const edited = [history[0], user("changed"), history[2], user("b")];
    const rebuilt = knownInput(edited, edited.map((item) => JSON.stringify(item)), extended)!;
    expect(rebuilt.joined).toBe(rebuilt.texts.join(","));
    // ...so a body with the old middle item is not mistaken for it.
    const oldBody = JSON.stringify({ model: "m", input: [...history.slice(0, 3), user("b"), user("c")] });
    expect(parseWithKnownInput(oldBody, rebuilt)).toBeUndefined();
  });
});

describe("what the session keeps in memory", () => {
  it("an input too large to keep is not kept (those turns are parsed in full)", () => {
    const big = [{ type: "function_call_output", call_id: "c", output: "x".repeat(5 * 1024 * 1024) }];
    expect(knownInput(big, big.map((item) => JSON.stringify(item)), undefined)).toBeUndefined();
    expect(knownInput(history, history.map((item) => JSON.stringify(item)), undefined)).toBeDefined();
  });
});

function reordered(item: unknown): unknown {
  return Object.fromEntries(Object.entries(item as Record<string, unknown>).reverse());
}

describe("the fields around a resent history", () => {
  const turn = (input: unknown[], fields: Record<string, unknown> = codex) => JSON.stringify({ ...fields, input });

  it("are parsed once: a later turn with the same text around its input reuses them and their fields key", () => {
    const first = known(history);
    const second = parseWithKnownInput(turn([...history, user("a")]), first)!;
    const afterSecond = known([...(second.input as unknown[])], first);
    const thirdText = turn([...(second.input as unknown[]), user("b")]);
    const third = parseWithKnownInput(thirdText, afterSecond)!;
    expect(third).toEqual(JSON.parse(thirdText));
    expect(Object.keys(third)).toEqual(Object.keys(JSON.parse(thirdText)));
    expect(third.tools).toBe(second.tools);
    expect(fieldsKey(third)).toBe(fieldsKey(second));
  });

  it("are parsed again when they changed, and the fields key follows them", () => {
    const first = known(history);
    const second = parseWithKnownInput(turn([...history, user("a")]), first)!;
    const afterSecond = known([...(second.input as unknown[])], first);
    const changedText = turn([...(second.input as unknown[]), user("b")], { ...codex, tools: [], client_metadata: { turn: 3 } });
    const changed = parseWithKnownInput(changedText, afterSecond)!;
    expect(changed).toEqual(JSON.parse(changedText));
    expect(changed.tools).toEqual([]);
    expect(fieldsKey(changed)).not.toBe(fieldsKey(second));
  });

  it.each([
    ["a second top-level input", `,"input":[]}`],
    ["a second top-level input that is null", `,"input":null}`],
    ["a second top-level input with an escaped key", `,"\\u0069nput":null}`],
  ])("%s after the array is left to the ordinary parse", (_, tail) => {
    const text = `{"model":"m","input":[${history.slice(0, 2).map((item) => JSON.stringify(item)).join(",")}]${tail}`;
    expect(JSON.parse(text).input).not.toEqual(history.slice(0, 2));
    expect(parseWithKnownInput(text, known(history.slice(0, 2)))).toBeUndefined();
  });

  it("an input key that is the end of another key is not taken for the input", () => {
    const text = `{"model":"m","input":"s","a\\"input":[${history.slice(0, 2).map((item) => JSON.stringify(item)).join(",")}]}`;
    expect(JSON.parse(text).input).toBe("s");
    expect(parseWithKnownInput(text, known(history.slice(0, 2)))).toBeUndefined();
  });

  it("new items with brackets, quotes and backslashes in their strings parse as JSON.parse does (property)", () => {
    const previous = known(history.slice(0, 3));
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), (items, extra) => {
        const text = JSON.stringify({ model: "m", input: [...history.slice(0, 3), ...items], extra });
        const parsed = parseWithKnownInput(text, previous);
        expect(parsed).toEqual(JSON.parse(text));
      }),
      fuzzParameters(300),
    );
  });

  it("closingBracket finds the end of the array, past strings that look like its end", () => {
    const text = `,"a]\\"]",["x"],{"b":"}"}],"next":1}`;
    expect(text[closingBracket(text, 0)]).toBe("]");
    expect(text.slice(closingBracket(text, 0))).toBe(`],"next":1}`);
    expect(closingBracket(`,"unclosed]`, 0)).toBe(-1);
    expect(closingBracket(`,{"a":1}}`, 0)).toBe(-1);
  });
});
