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
import { rememberItemTexts } from "./turn-planner";

/** The previous full-history request's input, as items and as the texts they serialise to. */
export interface KnownInput {
  items: unknown[];
  texts: string[];
  /** `texts` joined with commas, as they appear inside the input array. */
  joined: string;
}

const inputKey = '"input":[';

/**
 * Above this much text the input is not kept between turns (such turns are parsed in full):
 * kept, its parsed items and joined text take several times that in the object's memory,
 * which is 128 MB for every object of its isolate.
 */
const maxKnownCharacters = 4 * 1024 * 1024;

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
  return { items, texts, joined };
}

function startsWithTexts(texts: string[], prefix: string[]): boolean {
  if (prefix.length > texts.length) return false;
  for (let index = 0; index < prefix.length; index += 1) if (texts[index] !== prefix[index]) return false;
  return true;
}

/**
 * The request object, when its input starts with the known input's exact text; undefined
 * otherwise. The known items are reused as they are (not parsed again), and the planner is told
 * their texts (not serialised again).
 */
export function parseWithKnownInput(text: string, known: KnownInput): Record<string, unknown> | undefined {
  if (known.texts.length === 0) return undefined;
  const at = text.indexOf(inputKey);
  if (at < 1) return undefined;
  const start = at + inputKey.length;
  const end = start + known.joined.length;
  // Equality of a slice (a memory compare in the engine), measured faster than `startsWith`.
  if (text.slice(start, end) !== known.joined) return undefined;
  if (text[end] !== "," && text[end] !== "]") return undefined;
  let leading: unknown;
  let trailing: unknown;
  try {
    // Both parse only if `"input":[` is the top-level key: nested, the brackets would not close.
    leading = JSON.parse(`${text.slice(0, at)}"input":null}`);
    trailing = JSON.parse(`{"input":[null${text.slice(end)}`);
    // The known items were checked when they were first parsed; what is new is checked here.
    assertJsonDepth(leading);
    assertJsonDepth(trailing);
  } catch {
    return undefined;
  }
  if (!isRecord(leading) || !isRecord(trailing) || !Array.isArray(trailing.input)) return undefined;
  const input = [...known.items, ...trailing.input.slice(1)];
  rememberItemTexts(input, known.texts);
  return { ...leading, ...trailing, input };
}
