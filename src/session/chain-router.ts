/**
 * Which chain of a session a turn belongs to (pure). A session is a set of chains, each one
 * conversation continuing on its own upstream connection: real clients run several under one
 * session id — Claude Code's side requests (titles, topic checks) and sub-agents, parallel
 * requests that share a `prompt_cache_key`.
 *
 * A turn that carries its whole history continues the idle chain whose compared fields equal
 * its own and whose retained input + last output its input starts with (the planner's rule,
 * per chain). If that chain is busy, the turn is a fork of it — a retry, a parallel branch —
 * and starts a chain of its own at once: nothing ever waits for another turn. Otherwise it is a
 * new conversation. A turn chained by its client (`previous_response_id`) belongs to the chain
 * whose last response that is.
 */
import { fingerprint } from "../shared/fingerprint";
import { continuation, fieldsKey, type ChainSnapshot, type FullSendReason } from "./turn-planner";

export interface RoutableChain {
  id: string;
  busy: boolean;
  /** What the chain retained, when it may continue this turn; undefined otherwise (not read). */
  snapshot: ChainSnapshot | undefined;
  lastResponseId: string | undefined;
  fieldsKey: string | undefined;
  /** `firstItemKey(texts[0])` of its conversation, when known. */
  firstItemKey: string | undefined;
}

export type Route =
  | { kind: "continue"; chainId: string; deltaStart: number }
  /** The same conversation rewritten (an edit, a retry, a compaction): its chain starts over, on its own socket. */
  | { kind: "rewrite"; chainId: string; reason: "history_edited" }
  | { kind: "new"; reason: Extract<FullSendReason, "first_turn" | "new_chain" | "fork" | "fields_changed" | "history_edited" | "unknown_previous_response">; forkOf?: string };

export function firstItemKey(text: string | undefined): string | undefined {
  return text === undefined ? undefined : fingerprint(text);
}

/**
 * A turn with its whole history. `chains` in most-recently-used order; those whose snapshot is
 * needed must have it loaded.
 */
export function routeFullHistoryTurn(request: Record<string, unknown>, items: unknown[], texts: string[], chains: readonly RoutableChain[]): Route {
  if (chains.length === 0) return { kind: "new", reason: "first_turn" };
  let best: { chain: RoutableChain; deltaStart: number } | undefined;
  let busyMatch: RoutableChain | undefined;
  for (const chain of chains) {
    if (!chain.snapshot) continue;
    const relation = continuation(request, items, texts, chain.snapshot);
    if (!relation.continues) continue;
    if (chain.busy) {
      busyMatch ??= chain;
      continue;
    }
    // The longest retained history is the most specific match (a fork that went on, say).
    if (!best || relation.deltaStart > best.deltaStart) best = { chain, deltaStart: relation.deltaStart };
  }
  if (best) return { kind: "continue", chainId: best.chain.id, deltaStart: best.deltaStart };
  if (busyMatch) return { kind: "new", reason: "fork", forkOf: busyMatch.id };
  return newConversation(request, texts, chains);
}

/** A turn chained by its client: the chain whose last response it names. */
export function routeChainedTurn(previousResponseId: string, chains: readonly RoutableChain[]): Route {
  const chain = chains.find((candidate) => candidate.lastResponseId === previousResponseId);
  if (!chain) return { kind: "new", reason: "unknown_previous_response" };
  if (chain.busy) return { kind: "new", reason: "fork", forkOf: chain.id };
  return { kind: "continue", chainId: chain.id, deltaStart: 0 };
}

/**
 * A conversation no chain continues. A chain that began the same way, with the same fields, is
 * the same conversation rewritten (an edit, a retry, a compaction): it starts over on that chain,
 * and its socket, when the chain is idle. One that began the same way with other fields is not
 * (Claude Code's title requests begin with the main conversation's first message, with another
 * system prompt and no tools): that is a new chain, and the old one stays for the turns that may
 * still continue it. Anything else is a conversation of its own.
 */
function newConversation(request: Record<string, unknown>, texts: string[], chains: readonly RoutableChain[]): Route {
  const start = firstItemKey(texts[0]);
  if (start === undefined) return { kind: "new", reason: "new_chain" };
  const relatives = chains.filter((chain) => chain.fieldsKey !== undefined && chain.firstItemKey === start);
  if (relatives.length === 0) return { kind: "new", reason: "new_chain" };
  const key = fieldsKey(request);
  const same = relatives.filter((chain) => chain.fieldsKey === key);
  const idle = same.find((chain) => !chain.busy);
  if (idle) return { kind: "rewrite", chainId: idle.id, reason: "history_edited" };
  return { kind: "new", reason: same.length > 0 ? "history_edited" : "fields_changed" };
}
