/**
 * Decides how a turn goes upstream on its chain (one conversation of a session): as a delta on
 * the previous response, or in full.
 *
 * The rule is Codex's own (`get_incremental_items`, docs/protocol.md §3): a delta only when every
 * field but the input is unchanged and the new input is exactly the retained input + the last
 * response's output + new items. Items are compared structurally: clients resend the
 * provider's output items with the same values in a different key order. Pure functions.
 */
import { assertJsonDepth } from "../shared/json-object";
import { isRecord } from "../streams/responses-event";

/** What a chain remembers of its previous turn. */
export interface ChainSnapshot {
  lastResponseId: string;
  /** Canonical JSON of the compared fields of the previous request. */
  fieldsKey: string;
  /** The previous turn's full input, one JSON text per item, as the client serialised it. */
  inputItems: string[];
  /** The previous response's output items, as the provider sent them. */
  outputItems: unknown[];
  /** The upstream connection the response id lives on (ids are bound to it with `store: false`). */
  connectionGeneration: number;
}

export type FullSendReason =
  | "first_turn"
  /** A conversation the session had not seen: a new chain (a side request, a sub-agent). */
  | "new_chain"
  /** The chain this turn continues is busy with another turn (a retry, a parallel branch). */
  | "fork"
  | "fields_changed"
  | "history_edited"
  | "reconnect"
  | "account_moved"
  | "retained_too_large"
  | "unknown_previous_response";

export interface TurnPlan {
  mode: "delta" | "full";
  reason?: FullSendReason;
  /** The `response.create` body to send (no `type`), input already cut to the delta if any. */
  request: Record<string, unknown>;
  /** The whole logical input of this turn, to retain once it completes (null: unknown). */
  fullInput: string[] | null;
}

/** Fields that change every turn without changing the conversation (not compared). */
const uncomparedFields = new Set(["input", "previous_response_id", "client_metadata", "stream", "generate", "background", "type"]);

/**
 * The compared fields as one text. Top-level keys are sorted; nested values are serialised
 * natively, in the client's own order, which a client keeps from turn to turn (tools are tens of
 * KB: canonicalising them in JavaScript on every turn costs more than it could save). A client
 * that reorders nested keys only gets a full send, which is always correct.
 */
export function comparedFieldsKey(request: Record<string, unknown>): string {
  const fields: Record<string, unknown> = {};
  for (const name of Object.keys(request).sort()) if (!uncomparedFields.has(name) && request[name] !== undefined) fields[name] = request[name];
  return JSON.stringify(fields);
}

/**
 * JSON with object keys sorted, so that two equal structures give the same text. A null field
 * counts as absent: Codex resends output items with `"content": null` where the provider sent
 * no `content` (observed with reasoning items).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined && value[key] !== null).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The key is computed once per request object (planning and retaining both need it). */
const fieldsKeys = new WeakMap<Record<string, unknown>, string>();
export function fieldsKey(request: Record<string, unknown>): string {
  let key = fieldsKeys.get(request);
  if (key === undefined) {
    key = comparedFieldsKey(request);
    fieldsKeys.set(request, key);
  }
  return key;
}

/** A request whose fields are known to be another's (the same text around its input: resent-history.ts). */
export function rememberFieldsKey(request: Record<string, unknown>, key: string): void {
  fieldsKeys.set(request, key);
}

/** Texts already known for the first items of an input array (see resent-history.ts). */
const knownItemTexts = new WeakMap<unknown[], string[]>();

export function rememberItemTexts(items: unknown[], texts: string[]): void {
  knownItemTexts.set(items, texts);
}

/** Each item's JSON text; items whose text is already known are not serialised again. */
function itemTexts(items: unknown[]): string[] {
  const known = knownItemTexts.get(items);
  if (known && known.length === items.length) return known;
  const texts = known ? known.slice(0, items.length) : [];
  for (let index = texts.length; index < items.length; index += 1) texts.push(JSON.stringify(items[index]));
  // Routing and planning both ask: the second time costs nothing.
  knownItemTexts.set(items, texts);
  return texts;
}

export function inputItems(input: unknown): unknown[] {
  if (Array.isArray(input)) return input;
  if (typeof input === "string") return [{ role: "user", content: [{ type: "input_text", text: input }] }];
  return [];
}

/**
 * A request that carries its whole history (HTTP clients; WebSocket clients after a reset).
 * `generation` is the upstream connection the turn will be sent on.
 */
export function planFullHistoryTurn(
  request: Record<string, unknown>,
  snapshot: ChainSnapshot | undefined,
  generation: number,
): TurnPlan {
  const items = inputItems(request.input);
  const texts = itemTexts(items);
  const full = (reason: FullSendReason): TurnPlan => ({ mode: "full", reason, request: withoutChain(request), fullInput: texts });
  if (!snapshot) return full("first_turn");
  const relation = continuation(request, items, texts, snapshot);
  if (!relation.continues) return full(relation.reason);
  if (snapshot.connectionGeneration !== generation) return full("reconnect");
  const deltaStart = relation.deltaStart;
  return {
    mode: "delta",
    request: { ...request, previous_response_id: snapshot.lastResponseId, input: items.slice(deltaStart) },
    fullInput: texts,
  };
}

export type Continuation = { continues: true; deltaStart: number } | { continues: false; reason: "fields_changed" | "history_edited" };

/**
 * Whether a full-history request continues the snapshot's conversation: the same compared fields,
 * and an input that is the retained input + the last output + at least one new item.
 */
export function continuation(request: Record<string, unknown>, items: unknown[], texts: string[], snapshot: ChainSnapshot): Continuation {
  if (fieldsKey(request) !== snapshot.fieldsKey) return { continues: false, reason: "fields_changed" };
  const deltaStart = matchedPrefixLength(items, texts, snapshot);
  if (deltaStart === undefined || deltaStart >= items.length) return { continues: false, reason: "history_edited" };
  return { continues: true, deltaStart };
}

/** Each item's JSON text (known texts reused), for callers that compare before planning. */
export function inputTexts(items: unknown[]): string[] {
  return itemTexts(items);
}

/**
 * A request chained by the client itself (`previous_response_id` + new items, WebSocket mode).
 * Forwarded as is while the chain is ours and our connection still holds it; rebuilt into a
 * full input from what we retained when the connection was replaced.
 */
export function planChainedTurn(
  request: Record<string, unknown>,
  snapshot: ChainSnapshot | undefined,
  generation: number,
): TurnPlan {
  const delta = inputItems(request.input).map((item) => JSON.stringify(item));
  if (!snapshot || request.previous_response_id !== snapshot.lastResponseId) {
    return { mode: "delta", reason: "unknown_previous_response", request, fullInput: null };
  }
  const fullInput = [...snapshot.inputItems, ...snapshot.outputItems.map((item) => JSON.stringify(item)), ...delta];
  if (snapshot.connectionGeneration === generation) return { mode: "delta", request, fullInput };
  return {
    mode: "full",
    reason: "reconnect",
    request: { ...withoutChain(request), input: fullInput.map((text) => JSON.parse(text) as unknown) },
    fullInput,
  };
}

/** The same turn sent in full (after a lost connection or a lost previous response). */
export function asFullSend(plan: TurnPlan, reason: FullSendReason): TurnPlan | undefined {
  if (plan.mode === "full") return plan;
  if (!plan.fullInput) return undefined;
  return { mode: "full", reason, request: { ...withoutChain(plan.request), input: plan.fullInput.map((text) => JSON.parse(text) as unknown) }, fullInput: plan.fullInput };
}

function withoutChain(request: Record<string, unknown>): Record<string, unknown> {
  const { previous_response_id: _dropped, ...rest } = request;
  return rest;
}

/** Where the new items start, or undefined when the history is not retained + output. */
function matchedPrefixLength(items: unknown[], texts: string[], snapshot: ChainSnapshot): number | undefined {
  const retained = snapshot.inputItems;
  const output = snapshot.outputItems;
  if (items.length < retained.length) return undefined;
  for (let index = 0; index < retained.length; index += 1) {
    // The client's own items come back byte for byte; only re-ordered keys need the slow path.
    if (texts[index] !== retained[index] && canonicalJson(items[index]) !== canonicalJson(JSON.parse(retained[index]!))) {
      return undefined;
    }
  }
  // The last output, as the client carries it back. A client that cannot carry reasoning (Chat
  // Completions; an Anthropic client that dropped a thinking block) leaves it out: the provider
  // still holds it in the chained response, which is what keeps the reasoning intact.
  let position = retained.length;
  for (const item of output) {
    const carried = position < items.length && canonicalJson(comparableOutputItem(items[position])) === canonicalJson(comparableOutputItem(item));
    if (carried) position += 1;
    else if (!isReasoning(item)) return undefined;
  }
  return position;
}

function isReasoning(item: unknown): boolean {
  return isRecord(item) && item.type === "reasoning";
}

/**
 * What a client can carry back of an output item. Clients that do not speak Responses (an
 * Anthropic client's `tool_use`, text and thinking blocks, translated back) lose the item ids,
 * statuses and logprobs, and re-serialise tool arguments: those are not compared.
 */
function comparableOutputItem(item: unknown): unknown {
  if (!isRecord(item)) return item;
  switch (item.type) {
    case "message":
      return {
        type: "message",
        role: item.role,
        content: Array.isArray(item.content) ? item.content.map((part) => (isRecord(part) ? { type: part.type, text: part.text ?? part.refusal } : part)) : item.content,
      };
    case "function_call":
      return { type: item.type, call_id: item.call_id, name: item.name, arguments: parsedArguments(item.arguments) };
    case "reasoning":
      return { type: item.type, encrypted_content: item.encrypted_content, id: item.encrypted_content ? undefined : item.id };
    case "web_search_call": {
      // An Anthropic client carries back the search's id and query only (not its sources).
      const action = isRecord(item.action) ? item.action : {};
      return { type: item.type, id: item.id, query: action.query };
    }
    default: {
      const { id: _id, status: _status, ...rest } = item;
      return rest;
    }
  }
}

function parsedArguments(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    const parsed: unknown = JSON.parse(text);
    // Arguments are a client's text: nested past the limit, they are compared as text.
    assertJsonDepth(parsed);
    return parsed;
  } catch {
    return text;
  }
}
