/**
 * Recognises a resent history in a request's text, so that a turn costs CPU in proportion to
 * what is new, not to the whole conversation (platform notes §7: parsing and comparing a
 * multi-megabyte history on every turn is what a session must avoid).
 *
 * HTTP clients send the whole conversation every turn, and the part retained from the previous
 * turn comes back byte for byte: clients serialise their own items the same way each time (Codex
 * with serde, the Anthropic route with `JSON.stringify`), compactly and in the same key order,
 * which is also what `JSON.stringify` gives for the parsed items. So the body is checked for
 * `"input":[` + the retained items' texts, and only the text around them is parsed. Anything
 * else — whitespace, another key order, an edited item — is parsed the ordinary way.
 */
import { assertJsonDepth } from "../shared/json-object";
import { isRecord } from "../streams/responses-event";
import { fieldsKey, rememberFieldsKey, rememberItemTexts } from "./turn-planner";

/** The previous full-history request's input, as items and as the texts they serialise to. */
export interface KnownInput {
  items: unknown[];
  texts: string[];
  /** `texts` joined with commas, as they appear inside the input array. */
  joined: string;
  /** The fields around the input as the last recognised turn sent them (see parseWithKnownInput). */
  surrounding?: SurroundingFields;
}

/**
 * The request's text before its input array and after it, and what they parsed to. Clients send
 * the same fields every turn (Codex: tens of KB of tools after the input), so a turn whose text
 * around the input is the same as the last one's reuses their parse and their fields key. The
 * parsed values are shared between turns' requests, like the known items: nothing changes a
 * request's values in place.
 */
interface SurroundingFields {
  leadingText: string;
  leading: Record<string, unknown>;
  trailingText: string;
  trailing: Record<string, unknown>;
  fieldsKey: string;
}

const inputKey = '"input":[';

/**
 * Above this much text the input is not kept between turns (such turns are parsed in full):
 * kept, its parsed items and joined text take several times that in the object's memory,
 * which is 128 MB for every object of its isolate.
 */
const maxKnownCharacters = 4 * 1024 * 1024;
/** Fields around the input longer than this are parsed every turn, not kept. */
const maxSurroundingCharacters = 128 * 1024;

export function knownInput(items: unknown[], texts: string[], previous: KnownInput | undefined): KnownInput | undefined {
  let characters = 0;
  for (const text of texts) characters += text.length;
  if (characters > maxKnownCharacters) return undefined;
  // Turn after turn the texts grow at the end: the joined text grows by concatenation, which the
  // engine does without copying the retained part. (The retained texts are the same strings as
  // last turn's when they were recognised here, so the check compares references.)
  const extendsPrevious = previous !== undefined && previous.texts.length > 0 && startsWithTexts(texts, previous.texts);
  const added = extendsPrevious ? texts.slice(previous.texts.length) : texts;
  const joined = extendsPrevious ? (added.length > 0 ? `${previous.joined},${added.join(",")}` : previous.joined) : texts.join(",");
  return { items, texts, joined, ...(previous?.surrounding ? { surrounding: previous.surrounding } : {}) };
}

function startsWithTexts(texts: string[], prefix: string[]): boolean {
  if (prefix.length > texts.length) return false;
  for (let index = 0; index < prefix.length; index += 1) if (texts[index] !== prefix[index]) return false;
  return true;
}

/**
 * The request object, when its input starts with the known input's exact text; undefined
 * otherwise. The known items are reused as they are (not parsed again), and the planner is told
 * their texts (not serialised again); only the new items are parsed, and the fields around the
 * input too when their text differs from the last turn's.
 */
export function parseWithKnownInput(text: string, known: KnownInput): Record<string, unknown> | undefined {
  if (known.texts.length === 0) return undefined;
  const at = text.indexOf(inputKey);
  // The key's quote must open a key: after `{` or `,`, not after a backslash (`"a\"input":[` is
  // the end of another key). Whether it is a top-level key the parse of the leading text tells.
  if (at < 1 || (text[at - 1] !== "{" && text[at - 1] !== ",")) return undefined;
  const start = at + inputKey.length;
  const end = start + known.joined.length;
  // Equality of a slice (a memory compare in the engine), measured faster than `startsWith`.
  if (text.slice(start, end) !== known.joined) return undefined;
  if (text[end] !== "," && text[end] !== "]") return undefined;
  const close = closingBracket(text, end);
  if (close < 0) return undefined;
  const leadingText = text.slice(0, at);
  const trailingText = text.slice(close + 1);
  const cached = known.surrounding;
  let added: unknown;
  let leading: unknown;
  let trailing: unknown;
  try {
    added = JSON.parse(`{"input":[null${text.slice(end, close)}]}`);
    // The known items were checked when they were first parsed; what is new is checked here.
    assertJsonDepth(added);
    // Both parse only if `"input":[` is the top-level key: nested, the brackets would not close.
    leading = cached?.leadingText === leadingText ? cached.leading : parsedFields(`${leadingText}"input":null}`);
    trailing = cached?.trailingText === trailingText ? cached.trailing : parsedFields(`{"input":null${trailingText}`);
  } catch {
    return undefined;
  }
  if (!isRecord(added) || !Array.isArray(added.input) || !isRecord(leading) || !isRecord(trailing)) return undefined;
  // A second top-level `input` after the array (JSON.parse keeps the last): the ordinary way
  // decides. It shows as a value other than the `null` put in front of it — or, when it is null
  // itself, as a parse with another placeholder that still says null. (A kept parse was checked.)
  if (trailing.input !== null) return undefined;
  if (trailing !== cached?.trailing && hasLaterInput(trailingText)) return undefined;
  const input = [...known.items, ...added.input.slice(1)];
  rememberItemTexts(input, known.texts);
  const request = { ...leading, ...trailing, input };
  const sameFields = cached !== undefined && leading === cached.leading && trailing === cached.trailing;
  // The same text around the input is the same fields: the same key, not serialised again.
  if (sameFields) rememberFieldsKey(request, cached.fieldsKey);
  else if (leadingText.length + trailingText.length <= maxSurroundingCharacters) {
    known.surrounding = { leadingText, leading, trailingText, trailing, fieldsKey: fieldsKey(request) };
  } else delete known.surrounding;
  return request;
}

function hasLaterInput(trailingText: string): boolean {
  try {
    return (JSON.parse(`{"input":0${trailingText}`) as { input?: unknown }).input !== 0;
  } catch {
    return true;
  }
}

/** Characters a chain's known input holds beside its items (the fields around it), for the memory budget. */
export function surroundingCharacters(known: KnownInput): number {
  const surrounding = known.surrounding;
  return surrounding ? surrounding.leadingText.length + surrounding.trailingText.length + surrounding.fieldsKey.length : 0;
}

function parsedFields(json: string): unknown {
  const value: unknown = JSON.parse(json);
  assertJsonDepth(value);
  return value;
}

/**
 * Where the array that `from` is inside of closes (the index of its `]`), scanning only the text
 * from `from` on (a turn's new items) and skipping strings; -1 when it does not close.
 */
export function closingBracket(text: string, from: number): number {
  let depth = 0;
  for (let index = from; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === quote) {
      // To the string's closing quote: one not escaped by an odd run of backslashes.
      for (index += 1; index < text.length; index += 1) {
        const inner = text.charCodeAt(index);
        if (inner === backslash) index += 1;
        else if (inner === quote) break;
      }
    } else if (code === openBracket || code === openBrace) depth += 1;
    else if (code === closeBracket || code === closeBrace) {
      if (depth === 0) return code === closeBracket ? index : -1;
      depth -= 1;
    }
  }
  return -1;
}

const quote = 0x22;
const backslash = 0x5c;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;
