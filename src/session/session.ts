/**
 * One session: a set of chains (conversations), each continuing on its own upstream connection.
 * A turn goes to the chain it continues, as a delta; a turn no idle chain continues starts a
 * chain of its own at once (chain-router.ts). Owned by the session Durable Object.
 *
 * Bounded: at most SESSION_MAX_CHAINS chains (the least recently used goes, its socket closed);
 * one budget for retained input across them (SESSION_MAX_RETAINED_BYTES, in storage); and a
 * memory budget, past which the least recently used chains keep their retained input in
 * storage only and read it again when a turn needs it.
 */
import type { Configuration } from "../configuration/configuration";
import { GatewayError, toGatewayError } from "../errors/gateway-error";
import type { AccountServices } from "../accounts/account-services";
import type { RequestLog } from "../middleware/request-log";
import { parseJsonObject } from "../shared/json-object";
import { Chain, type StartedTurn, type TurnOptions } from "./chain";
import { routeChainedTurn, routeFullHistoryTurn, type RoutableChain, type Route } from "./chain-router";
import type { ChainStore } from "./chain-store";
import { ReasoningOwners } from "./reasoning-owners";
import { parseWithKnownInput } from "./resent-history";
import { inputItems, inputTexts } from "./turn-planner";

/** How long a client's WebSocket upgrade waits for the upstream's own. */
const clientUpgradeWaitMs = 3_000;

/**
 * Characters of retained input a session keeps in memory across its chains (with the parse of
 * recognised input counted twice): well under the 128 MB an object's isolate has, with room for
 * the request being read and parsed.
 */
export const sessionMemoryCharacters = 12 * 1024 * 1024;

/**
 * Upstream sockets a session keeps open between turns: the most recently used chains keep
 * theirs; older ones close (their retained input stays, their next turn is a full send on a new
 * socket). Claude Code opens a chain per session title, used once: without this each would hold
 * an upstream connection, and its object in memory, until the idle timeout.
 */
export const maxIdleSockets = 4;

export interface SessionTurn extends StartedTurn {
  /** Chains the session holds now. */
  chains: number;
  /** The turn's stream settled: its chain takes turns again. Idempotent. */
  release(): void;
}

export interface TurnRequest {
  /** The client WebSocket's own chain: its turns never go elsewhere. */
  socketChainId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export class Session {
  /** Least recently used first. */
  readonly #chains = new Map<string, Chain>();
  readonly #reasoningOwners: ReasoningOwners;

  constructor(
    private readonly store: ChainStore,
    private readonly configuration: Configuration,
    private readonly services: AccountServices,
    /** Chains that belong to an open client WebSocket: not for other turns, never evicted. */
    private readonly socketChains: () => ReadonlySet<string>,
  ) {
    this.#reasoningOwners = new ReasoningOwners(store);
    const headers = store.headers().sort((a, b) => a.lastActivity - b.lastActivity);
    for (const header of headers) this.#chains.set(header.id, new Chain(header, store, configuration, services, this.#reasoningOwners, this.#hooks));
  }

  get chainCount(): number {
    return this.#chains.size;
  }

  get busy(): boolean {
    for (const chain of this.#chains.values()) if (chain.busy) return true;
    return false;
  }

  hasOpenSocket(): boolean {
    return this.openSocketCount() > 0;
  }

  openSocketCount(): number {
    let count = 0;
    for (const chain of this.#chains.values()) if (chain.connection.openedAt !== undefined) count += 1;
    return count;
  }

  lastResponseIdOf(chainId: string): string | undefined {
    return this.#chains.get(chainId)?.lastResponseId;
  }

  /**
   * A turn's body from its text. A body that resends a chain's last input unchanged (HTTP
   * clients, every turn) is parsed only around it: see resent-history.ts.
   */
  parseBody(text: string): { body: Record<string, unknown>; recognised: boolean } {
    for (const chain of [...this.#chains.values()].reverse()) {
      const recognised = chain.known && parseWithKnownInput(text, chain.known);
      if (recognised) return { body: recognised, recognised: true };
    }
    return { body: parseJsonObject(text), recognised: false };
  }

  /** Starts a turn on its chain; resolves once the first output is on the way. */
  async startTurn(body: Record<string, unknown>, forwardedHeaders: Headers, log: RequestLog, turn: TurnRequest = {}): Promise<SessionTurn> {
    this.#noteTurn(Date.now());
    const { chain, options } = this.#chainFor(body, turn);
    chain.busy = true;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      chain.busy = false;
    };
    try {
      const started = await chain.run(body, forwardedHeaders, log, { ...options, signal: turn.signal });
      return { ...started, chains: this.#chains.size, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * A chain for a new client WebSocket, and its upstream socket opened now when the account is
   * known without a model (the session's latest, or the only one), so that the upgrade headers
   * (the turn state of older ChatGPT backends, rate limits) reach the client's 101. Past a short
   * wait, or on failure, the client is let in without them: its first turn opens the socket (with
   * failover) and reports a failure in-band. Never throws.
   */
  async openSocketChain(forwardedHeaders: Headers): Promise<{ chainId: string; upgradeHeaders: Headers | undefined }> {
    const chain = this.#newChain();
    const accounts = this.configuration.accounts;
    const latest = [...this.#chains.values()].reverse().find((candidate) => candidate.accountId !== undefined)?.accountId;
    const account = accounts.find((candidate) => candidate.id === latest) ?? (accounts.length === 1 ? accounts[0] : undefined);
    if (!chain || !account || account.transport !== "websocket") return { chainId: chain?.id ?? "overflow", upgradeHeaders: undefined };
    const opening = chain.prepareSocket(account, forwardedHeaders);
    try {
      const opened = await settlesWithin(opening, clientUpgradeWaitMs);
      if (!opened) opening.catch(() => {});
      return { chainId: chain.id, upgradeHeaders: opened ? chain.connection.upgradeHeaders : undefined };
    } catch (error) {
      console.error(JSON.stringify({ level: "warn", message: "upstream socket not opened at upgrade; the first turn retries", error: toGatewayError(error).kind }));
      return { chainId: chain.id, upgradeHeaders: undefined };
    }
  }

  /** Deadlines of the open sockets: the earliest idle or lifetime limit, if any socket is open. */
  nextSocketDeadline(): number | undefined {
    const { idleTimeoutMs, maxLifetimeMs } = this.configuration.session;
    let earliest: number | undefined;
    for (const chain of this.#chains.values()) {
      const openedAt = chain.connection.openedAt;
      if (openedAt === undefined) continue;
      const due = Math.min(chain.lastActivity + idleTimeoutMs, openedAt + maxLifetimeMs);
      earliest = earliest === undefined ? due : Math.min(earliest, due);
    }
    return earliest;
  }

  /** Closes sockets idle or past their lifetime; busy chains keep theirs (checked again later). */
  closeDueSockets(now = Date.now()): void {
    const { idleTimeoutMs, maxLifetimeMs } = this.configuration.session;
    for (const chain of this.#chains.values()) {
      const openedAt = chain.connection.openedAt;
      if (openedAt === undefined || chain.busy) continue;
      if (now - chain.lastActivity >= idleTimeoutMs) chain.closeSocket("idle");
      else if (now - openedAt >= maxLifetimeMs) chain.closeSocket("lifetime reached");
    }
  }

  /** When the session's storage is deleted: SESSION_RETENTION_MS after its last turn. */
  retentionDeadline(): number {
    this.#lastTurnAt ??= Number(this.store.value("last_turn_at") ?? Date.now());
    return this.#lastTurnAt + this.configuration.session.retentionMs;
  }

  /** When the last turn was: stored at most once a minute (the retention is a day), not on every turn. */
  #noteTurn(now: number): void {
    const stored = this.#lastTurnStored ?? 0;
    this.#lastTurnAt = now;
    if (now - stored < 60_000) return;
    this.#lastTurnStored = now;
    this.store.setValue("last_turn_at", String(now));
  }

  #lastTurnAt: number | undefined;
  #lastTurnStored: number | undefined;

  /** The session is forgotten: its sockets close, and turns still ending keep nothing. */
  retire(reason: string): void {
    this.#retired = true;
    for (const chain of this.#chains.values()) chain.closeSocket(reason);
  }

  #chainFor(body: Record<string, unknown>, turn: TurnRequest): { chain: Chain; options: TurnOptions } {
    if (turn.socketChainId !== undefined) {
      const own = this.#chains.get(turn.socketChainId) ?? this.#newChain(turn.socketChainId);
      if (!own) return { chain: this.#overflowChain(), options: { overflow: true } };
      if (own.busy) throw new GatewayError("conflict", "A response is already in progress on this socket; wait for it to finish.", { code: "response_in_progress" });
      this.#touch(own);
      return { chain: own, options: {} };
    }
    const owned = this.socketChains();
    const candidates = [...this.#chains.values()].reverse().filter((chain) => !owned.has(chain.id));
    const route = this.#route(body, candidates);
    if (route.kind === "continue" || route.kind === "rewrite") {
      const chain = this.#chains.get(route.chainId)!;
      this.#touch(chain);
      return { chain, options: {} };
    }
    const basis = route.forkOf !== undefined && typeof body.previous_response_id === "string" ? this.#chains.get(route.forkOf)?.snapshot() : undefined;
    const fresh = this.#newChain();
    const options: TurnOptions = { reason: route.reason, basis };
    return fresh ? { chain: fresh, options } : { chain: this.#overflowChain(), options: { ...options, overflow: true } };
  }

  #route(body: Record<string, unknown>, candidates: Chain[]): Route {
    if (typeof body.previous_response_id === "string") {
      return routeChainedTurn(body.previous_response_id, candidates.map((chain) => view(chain, undefined)));
    }
    const items = inputItems(body.input);
    const texts = inputTexts(items);
    // Only chains that may continue the turn have their retained items read (from memory, or storage).
    const views = candidates.map((chain) => view(chain, chain.mayContinue(body, items.length) ? chain : undefined));
    return routeFullHistoryTurn(body, items, texts, views);
  }

  /** A new chain, making room by evicting the least recently used idle one; undefined when all are busy. */
  #newChain(id?: string): Chain | undefined {
    if (this.#chains.size >= this.configuration.session.maxChains && !this.#evictOne()) return undefined;
    const chain = Chain.fresh(id ?? `c${this.store.increment("chain_counter")}`, this.store, this.configuration, this.services, this.#reasoningOwners, this.#hooks);
    this.#chains.set(chain.id, chain);
    return chain;
  }

  /** Every chain busy and the cap reached: the turn goes over HTTP and nothing of it is kept. */
  #overflowChain(): Chain {
    return Chain.fresh("overflow", this.store, this.configuration, this.services, this.#reasoningOwners, { retained: () => {}, live: () => false });
  }

  #evictOne(except?: Chain): boolean {
    const owned = this.socketChains();
    for (const chain of this.#chains.values()) {
      if (chain === except || chain.busy || owned.has(chain.id)) continue;
      this.#evict(chain);
      return true;
    }
    return false;
  }

  #evict(chain: Chain): void {
    chain.closeSocket("evicted");
    chain.discardUnsaved();
    this.#chains.delete(chain.id);
    try {
      this.store.deleteChain(chain.id);
    } catch (error) {
      console.error(JSON.stringify({ level: "warn", message: "an evicted session chain could not be deleted from storage", chain: chain.id, error: String(error) }));
    }
  }

  #touch(chain: Chain): void {
    this.#chains.delete(chain.id);
    this.#chains.set(chain.id, chain);
  }

  /** The session was forgotten (retention, or its only socket closed): nothing it still runs writes storage. */
  #retired = false;

  readonly #hooks = {
    live: () => !this.#retired,
    /** After a chain retained a turn: the session's retention and memory budgets. */
    retained: (current: Chain) => {
      let retained = 0;
      for (const chain of this.#chains.values()) retained += chain.retainedCharacters;
      while (retained > this.configuration.session.maxRetainedBytes) {
        const before = this.#chains.size;
        const oldest = [...this.#chains.values()].find((chain) => chain !== current && !chain.busy && !this.socketChains().has(chain.id));
        if (!oldest) break;
        retained -= oldest.retainedCharacters;
        this.#evict(oldest);
        if (this.#chains.size === before) break;
      }
      const owned = this.socketChains();
      let sockets = 0;
      for (const chain of [...this.#chains.values()].reverse()) {
        if (chain.connection.openedAt === undefined) continue;
        sockets += 1;
        if (sockets > maxIdleSockets && chain !== current && !chain.busy && !owned.has(chain.id)) chain.closeSocket("too many idle sockets");
      }
      let memory = 0;
      for (const chain of this.#chains.values()) memory += chain.memoryCharacters;
      for (const chain of this.#chains.values()) {
        if (memory <= sessionMemoryCharacters) break;
        if (chain === current || chain.busy) continue;
        memory -= chain.memoryCharacters;
        chain.dropMemory();
      }
    },
  };
}

function view(chain: Chain, readable: Chain | undefined): RoutableChain {
  return {
    id: chain.id,
    busy: chain.busy,
    snapshot: readable?.snapshot(),
    lastResponseId: chain.lastResponseId,
    fieldsKey: chain.fieldsKey,
    firstItemKey: chain.firstItemKey,
  };
}

/** True when `promise` fulfils within `ms`, false when it is still pending then; its rejection is thrown. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
