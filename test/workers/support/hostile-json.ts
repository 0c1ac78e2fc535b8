/**
 * Hostile request bodies for property tests: JSON texts of any shape (deep, wide, with keys named
 * like `Object.prototype`'s members, duplicate keys, numbers JSON.parse turns into Infinity or
 * -0, lone surrogates), byte strings that are not JSON or not UTF-8, and valid requests with
 * generated damage at generated places.
 */
import fc from "fast-check";
import { hostileValue, hostileValueTexts, prototypeKeys } from "./messages-arbitrary";

const encoder = new TextEncoder();

const key = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
  { weight: 2, arbitrary: fc.constantFrom(...prototypeKeys, "type", "model", "input", "messages", "stream", "role", "content", "tools", "text") },
);

const leaf = fc.oneof(
  fc.constantFrom("null", "true", "false", "0", "-0", "1e400", "-1e400", "1e-400", "9007199254740993", '"\\ud800"', '"\\u0000"', '""'),
  fc.double().map((value) => JSON.stringify(value) ?? "null"),
  fc.integer().map(String),
  fc.string({ unit: "binary", maxLength: 8 }).map((text) => JSON.stringify(text)),
  fc.constantFrom(...prototypeKeys, "gpt-5.5", "user", "assistant", "message", "text", "input_text").map((text) => JSON.stringify(text)),
  fc.constantFrom(...hostileValueTexts),
);

/** Any JSON text, a few levels deep. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 5 }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
  object: fc.array(fc.tuple(key, tie("value")), { maxLength: 5 }).map((entries) => `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(",")}}`),
})).value;

/** Nesting around the gateway's depth limit (100), and arrays and objects thousands wide. */
export const extremeJsonText = fc.oneof(
  fc.tuple(fc.integer({ min: 90, max: 140 }), fc.boolean()).map(([depth, objects]) => (objects ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`)),
  fc.integer({ min: 100, max: 3_000 }).map((width) => `[${Array.from({ length: width }, (_, index) => index).join(",")}]`),
  fc.integer({ min: 100, max: 2_000 }).map((width) => `{${Array.from({ length: width }, (_, index) => `"k${index}":${index}`).join(",")}}`),
);

/** A JSON value whose object keys stay own keys, `__proto__` included (JSON.parse makes them so). */
export const jsonValue = fc.oneof({ weight: 5, arbitrary: jsonText }, extremeJsonText).map((text) => JSON.parse(text) as unknown);

/**
 * Damage at a place in a value: a replaced, removed or added value (its path picked by numbers),
 * or a leaf — a string, a number — replaced, wherever the path leads (a value of the wrong type
 * deep inside a valid request, where code is most likely to trust it).
 */
export const damage = fc.record({
  path: fc.array(fc.nat(), { maxLength: 6 }),
  action: fc.constantFrom("replace", "replace", "remove", "add", "leaf", "leaf"),
  key,
  value: fc.oneof(jsonValue, hostileValue),
});
export type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

function setOwn(record: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
}

/** A copy of `value` with the damage done at the end of its path (as deep as the value goes). */
export function damaged(value: unknown, change: Damage, depth = 0): unknown {
  if (change.action === "leaf") return withLeafReplaced(value, change);
  const container = Array.isArray(value) || (typeof value === "object" && value !== null);
  const step = change.path[depth];
  if (!container || step === undefined) {
    if (change.action === "remove") return undefined;
    if (change.action === "replace" || !container) return change.value;
  }
  if (Array.isArray(value)) {
    const copy = [...value];
    if (step === undefined || copy.length === 0) copy.push(change.value);
    else copy[step % copy.length] = damaged(copy[step % copy.length], change, depth + 1);
    return copy.filter((item) => item !== undefined);
  }
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(record)) setOwn(copy, name, item);
  const names = Object.keys(copy);
  if (step === undefined || names.length === 0) {
    setOwn(copy, change.key, change.value);
    return copy;
  }
  const name = names[step % names.length]!;
  const next = damaged(copy[name], change, depth + 1);
  if (next === undefined) delete copy[name];
  else setOwn(copy, name, next);
  return copy;
}

/** The paths of every leaf (a value that is not an array or object) of a value. */
function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...path, index]));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([name, item]) => leafPaths(item, [...path, name]));
  return [path];
}

/** A copy with one leaf, picked evenly among all of them, replaced by the damage's value. */
function withLeafReplaced(value: unknown, change: Damage): unknown {
  const leaves = leafPaths(value);
  if (leaves.length === 0) return change.value;
  const target = leaves[(change.path[0] ?? 0) % leaves.length]!;
  const replace = (node: unknown, depth: number): unknown => {
    if (depth === target.length) return change.value;
    const step = target[depth]!;
    if (Array.isArray(node)) return node.map((item, index) => (index === step ? replace(item, depth + 1) : item));
    const copy: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(node as Record<string, unknown>)) setOwn(copy, name, name === step ? replace(item, depth + 1) : item);
    return copy;
  };
  return replace(value, 0);
}

/** Bytes that are not a JSON object, or not even text. */
export const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]), new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), new Uint8Array([])),
  fc.constantFrom("", " ", "null", "[]", '"x"', "{", '{"model":', "{}}", "{'model':'gpt-5.5'}", "NaN", "model=gpt-5.5&input=hi").map((text) => encoder.encode(text)),
);

/** A valid body's text cut short at a generated place (inside a character, too). */
export function truncated(text: string, at: number): Uint8Array {
  const bytes = encoder.encode(text);
  return bytes.slice(0, at % Math.max(1, bytes.length));
}

/** Bytes for what may be text (counterexamples read better as text). */
export function bytesOf(body: string | Uint8Array): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}
