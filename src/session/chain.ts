/**
 * One chain: one conversation of a session, continuing on its own upstream connection. It knows
 * what it retained (in storage; in memory while the session's budget allows), which account it
 * lives on, and how to run a turn: as a delta or in full, recovering invisibly when the
 * connection or the provider's state is lost before any output, and retaining the completed
 * response for the next turn.
 *
 * One turn at a time: the session only gives a chain a turn while it is not busy.
 */
import type { Configuration } from "../configuration/configuration";
import { GatewayError } from "../errors/gateway-error";
import { eventPayload, isRecord, terminalEventTypes } from "../streams/responses-event";
import { mapReader, type EventBatch, type EventReader } from "../streams/event-reader";
import { holdUntilOutput } from "../streams/hold-until-output";
import { openResponsesStream } from "../upstream/open-responses-stream";
import { prepareRequestObject, type ResponsesUpstream } from "../upstream/responses-upstream";
import type { Account, Transport } from "../accounts/accounts-configuration";
import type { AccountServices } from "../accounts/account-services";
import { withFailover, type Candidate } from "../accounts/failover";
import type { RequestLog } from "../middleware/request-log";
import { ChainConnection } from "./chain-connection";
import { firstItemKey } from "./chain-router";
import type { ChainHeader, ChainStore } from "./chain-store";
import type { ReasoningOwners } from "./reasoning-owners";
import { knownInput, surroundingCharacters, type KnownInput } from "./resent-history";
import { asFullSend, fieldsKey, inputItems, planChainedTurn, planFullHistoryTurn, type ChainSnapshot, type FullSendReason, type TurnPlan } from "./turn-planner";

/** A connection generation no socket ever has: the retained state cannot be chained from. */
export const brokenChain = -1;
/** Responses sent over HTTP live on no connection: this generation stands for "over HTTP". */
const overHttp = 0;

/** Provider answers that mean "your continuation is gone": resend in full, on a new connection. */
const lostContinuationCodes = new Set(["previous_response_not_found", "websocket_connection_limit_reached", "response_already_in_flight"]);

export interface StartedTurn {
  events: EventReader;
  mode: "delta" | "full";
  reason: FullSendReason | undefined;
  /** Response headers worth passing on (turn state, rate limits). */
  headers: Headers;
  chainId: string;
}

export interface TurnOptions {
  /** Why a new chain's first turn goes in full (the router's reason). */
  reason?: FullSendReason | undefined;
  /** A fork of a client-chained turn: the busy chain's snapshot, to rebuild the whole input from. */
  basis?: ChainSnapshot | undefined;
  /** The client went away: the turn is cancelled at once. */
  signal?: AbortSignal | undefined;
  /** Over HTTP, retaining nothing (a turn past the session's chain cap). */
  overflow?: boolean;
}

export interface ChainHooks {
  /** The chain retained a turn: the session checks its budgets. */
  retained(chain: Chain): void;
  /** False once the session was forgotten (its storage deleted): a turn still ending writes nothing. */
  live(): boolean;
}

export class Chain {
  busy = false;
  /** The last full-history input, to recognise it in the next body (memory only, see resent-history.ts). */
  known: KnownInput | undefined;
  readonly connection: ChainConnection;
  #header: ChainHeader;
  /** The compared fields; `null` until read from storage. */
  #fieldsKey: string | undefined | null;
  /** Retained input texts and output items in memory; undefined: read from storage when needed. */
  #inputTexts: string[] | undefined;
  #outputItems: unknown[] | undefined;
  #upstream: ResponsesUpstream | undefined;
  #transport: Transport = "websocket";
  /** The chain changed account since its last turn: the next send is full, and says why. */
  #moved = false;
  /** The last turn's storage write, while it waits to run after the turn's terminal event went out (see #settle). */
  #unsaved: (() => void) | undefined;

  constructor(
    header: ChainHeader,
    private readonly store: ChainStore,
    private readonly configuration: Configuration,
    private readonly services: AccountServices,
    private readonly reasoningOwners: ReasoningOwners,
    private readonly hooks: ChainHooks,
    fieldsKnown = false,
  ) {
    this.#header = header;
    this.#fieldsKey = fieldsKnown ? undefined : null;
    this.connection = new ChainConnection(store, { maxLifetimeMs: configuration.session.maxLifetimeMs, openTimeoutMs: configuration.streamIdleTimeoutMs });
  }

  static fresh(id: string, ...rest: [ChainStore, Configuration, AccountServices, ReasoningOwners, ChainHooks]): Chain {
    const header: ChainHeader = { id, lastResponseId: undefined, connectionGeneration: brokenChain, accountId: undefined, inputCount: 0, retainedCharacters: 0, firstItemKey: undefined, lastActivity: Date.now() };
    return new Chain(header, ...rest, true);
  }

  get id(): string {
    return this.#header.id;
  }

  get lastActivity(): number {
    return this.#header.lastActivity;
  }

  get accountId(): string | undefined {
    return this.#header.accountId;
  }

  get firstItemKey(): string | undefined {
    return this.#header.firstItemKey;
  }

  get retainedCharacters(): number {
    return this.#header.retainedCharacters;
  }

  get lastResponseId(): string | undefined {
    return this.#header.lastResponseId;
  }

  get fieldsKey(): string | undefined {
    if (this.#fieldsKey === null) this.#fieldsKey = this.store.items(this.id, "fields")[0];
    return this.#fieldsKey;
  }

  /** Characters this chain holds in memory (retained texts, and the recognised input's parse). */
  get memoryCharacters(): number {
    // The texts, and their parse at about as much again (items; the fields around the input).
    const known = this.known ? (this.known.joined.length + surroundingCharacters(this.known)) * 2 : 0;
    return (this.#inputTexts ? this.#header.retainedCharacters : 0) + known;
  }

  /** Lets go of what storage also holds: the next turn that needs it reads it again. */
  dropMemory(): void {
    this.persist();
    this.known = undefined;
    this.#inputTexts = undefined;
    this.#outputItems = undefined;
  }

  /** What the chain retained, read from storage if it is not in memory. */
  snapshot(): ChainSnapshot | undefined {
    const header = this.#header;
    const fields = this.fieldsKey;
    if (header.lastResponseId === undefined || fields === undefined) return undefined;
    this.#inputTexts ??= this.store.items(this.id, "input");
    this.#outputItems ??= this.store.items(this.id, "output").map((text) => JSON.parse(text) as unknown);
    return { lastResponseId: header.lastResponseId, fieldsKey: fields, inputItems: this.#inputTexts, outputItems: this.#outputItems, connectionGeneration: header.connectionGeneration };
  }

  /** Whether the chain could continue a turn of `itemCount` items with these fields (before reading its items). */
  mayContinue(request: Record<string, unknown>, itemCount: number): boolean {
    return this.#header.lastResponseId !== undefined && this.#header.inputCount < itemCount && this.fieldsKey === fieldsKey(request);
  }

  /**
   * Runs a turn on the chain's account, or — when it cannot serve before any output — on the
   * next candidate (`withFailover`); resolves once the first output is on the way.
   */
  async run(body: Record<string, unknown>, forwardedHeaders: Headers, log: RequestLog, options: TurnOptions = {}): Promise<StartedTurn> {
    // A turn plans from what storage holds: the last turn's write goes first (its timer has
    // almost always run), and if it failed the chain is back at the header before it.
    this.persist();
    this.#header.lastActivity = Date.now();
    const { result } = await withFailover({
      configuration: this.configuration,
      cooldowns: this.services.cooldowns,
      model: String(body.model),
      log,
      preferredAccountId: this.#header.accountId,
      signal: options.signal,
      run: (candidate) => this.#turnOn(candidate, body, forwardedHeaders, options),
    });
    return result;
  }

  /**
   * Opens the upstream socket before any turn (a client's WebSocket upgrade), on `account`, and
   * returns its upgrade headers (older ChatGPT backends put `x-codex-turn-state` there).
   */
  async prepareSocket(account: Account, forwardedHeaders: Headers): Promise<Headers> {
    this.#useAccount(account);
    await this.connection.socketFor(this.#upstream!, account.id, forwardedHeaders);
    return this.connection.upgradeHeaders ?? new Headers();
  }

  closeSocket(reason: string): void {
    this.connection.close(reason);
  }

  /** Writes the last turn to storage if its write still waits. A failed write costs the next turn a full send. */
  persist(): void {
    const save = this.#unsaved;
    if (!save) return;
    this.#unsaved = undefined;
    if (!this.hooks.live()) return;
    save();
  }

  /**
   * A turn could not be retained: the chain goes back to what storage holds (`stored`, the header
   * before the turn), broken, and reads its items and fields from there again. Keeping the turn's
   * own header would pair its response id with the previous turn's items: a turn chained on it
   * would be rebuilt without that turn.
   */
  #notRetained(error: unknown, stored: ChainHeader): void {
    console.error(JSON.stringify({ level: "warn", message: "a session turn could not be retained; the next turn goes in full", chain: this.id, error: String(error) }));
    this.#header = { ...stored, accountId: this.#header.accountId, lastActivity: this.#header.lastActivity, connectionGeneration: brokenChain };
    this.#fieldsKey = null;
    this.dropMemory();
  }

  /** The chain is deleted (evicted): a write still waiting would bring its rows back. */
  discardUnsaved(): void {
    this.#unsaved = undefined;
  }

  async #turnOn(candidate: Candidate, body: Record<string, unknown>, forwardedHeaders: Headers, options: TurnOptions): Promise<StartedTurn> {
    this.#useAccount(candidate.account);
    const request = prepareRequestObject(this.#upstream!.kind, { ...body, stream: true }, candidate.upstreamModel);
    const snapshot = options.basis ?? this.snapshot();
    if (this.#transport === "http" || options.overflow) return this.#httpTurn(request, snapshot, forwardedHeaders, options);
    const items = typeof request.previous_response_id === "string" ? undefined : inputItems(request.input);

    const startedAt = Date.now();
    let socket;
    try {
      socket = await this.connection.socketFor(this.#upstream!, candidate.account.id, forwardedHeaders);
    } catch (error) {
      // The provider refuses another connection: this turn goes in full over HTTP, invisibly.
      if (error instanceof GatewayError && error.code === "websocket_connection_limit_reached") return this.#httpTurn(request, snapshot, forwardedHeaders, { ...options, forceFull: true });
      throw error;
    }
    let plan = this.#plan(request, snapshot, this.connection.generation, options);
    for (let attempt = 0; ; attempt += 1) {
      const generation = this.connection.generation;
      const held = await holdUntilOutput(socket.create(withoutType(plan.request)), this.configuration.streamIdleTimeoutMs, { signal: options.signal });
      if (held.kind === "released") {
        if (candidate.account.kind === "chatgpt") this.services.cooldowns.observeQuota(candidate.account.id, socket.upgradeHeaders);
        return { events: this.#track(held.events, plan, request, generation, items), mode: plan.mode, reason: plan.reason, headers: socket.upgradeHeaders, chainId: this.id };
      }
      this.#breakChain();
      if (options.signal?.aborted) throw held.error;
      // On a socket opened for this turn, the connection limit is the provider refusing another
      // connection (not the old socket's age, which a new socket cures): over HTTP instead.
      const fresh = socket.openedAt >= startedAt && held.code === "websocket_connection_limit_reached";
      if (fresh) return this.#httpTurn(request, snapshot, forwardedHeaders, { ...options, forceFull: true });
      const lost = !socket.isOpen || (held.code !== undefined && lostContinuationCodes.has(held.code));
      const retry = attempt === 0 && lost ? asFullSend(plan, "reconnect") : undefined;
      if (!retry) throw held.error;
      // Nothing reached the client yet: a fresh connection and the whole input, transparently.
      this.connection.close("continuation lost");
      socket = await this.connection.socketFor(this.#upstream!, candidate.account.id, forwardedHeaders);
      plan = this.#withoutForeignReasoning(retry);
    }
  }

  #plan(request: Record<string, unknown>, snapshot: ChainSnapshot | undefined, generation: number, options: TurnOptions): TurnPlan {
    let plan =
      typeof request.previous_response_id === "string" ? planChainedTurn(request, snapshot, generation) : planFullHistoryTurn(request, snapshot, generation);
    // A new chain says why it exists (a side conversation, a fork) rather than "first turn".
    if (options.reason && plan.mode === "full") plan = { ...plan, reason: options.reason };
    if (options.basis) plan = asFullSend(plan, "fork") ?? plan;
    // A chain that changed account resends everything it retained, on the new account.
    if (this.#moved) {
      const full = asFullSend(plan, "account_moved");
      if (full) plan = { ...full, reason: "account_moved" };
    }
    plan = this.#withoutForeignReasoning(plan);
    if (plan.fullInput && charactersOf(plan.fullInput) > this.configuration.session.maxRetainedBytes) {
      return { ...plan, fullInput: null, ...(plan.mode === "full" ? { reason: "retained_too_large" as const } : {}) };
    }
    return plan;
  }

  /** Encrypted reasoning is bound to the account that produced it: another one rejects it. */
  #withoutForeignReasoning(plan: TurnPlan): TurnPlan {
    if (plan.mode !== "full") return plan;
    return { ...plan, request: this.reasoningOwners.stripForeign(plan.request, this.#header.accountId!) };
  }

  /** Switches to `account` if the chain is elsewhere: its continuation does not move with it. */
  #useAccount(account: Account): void {
    if (this.#header.accountId === account.id && this.#upstream) return;
    if (this.#header.accountId !== undefined && this.#header.accountId !== account.id) {
      // What was retained stays: the next send rebuilds the whole input from it (see #plan).
      this.connection.close("account changed");
      this.#moved = true;
    }
    this.#header.accountId = account.id;
    this.#upstream = this.services.upstreamFor(account);
    this.#transport = account.transport;
  }

  /**
   * A turn over HTTP: the account's transport, a turn past the chain cap, or a provider that
   * refused another socket. A previous response is reachable over HTTP only if the provider
   * stored it (`store: true`); otherwise a turn the client chained itself is rebuilt into its
   * whole input from what the chain retained.
   */
  async #httpTurn(request: Record<string, unknown>, snapshot: ChainSnapshot | undefined, headers: Headers, options: TurnOptions & { forceFull?: boolean }): Promise<StartedTurn> {
    const chainedByClient = typeof request.previous_response_id === "string";
    const chainable = request.store === true && !this.#moved && !options.forceFull && !options.overflow;
    let plan: TurnPlan;
    if (chainedByClient) {
      plan = chainable ? planChainedTurn(request, snapshot, overHttp) : planChainedTurn(request, snapshot, brokenChain - 1);
    } else if (chainable) {
      plan = planFullHistoryTurn(request, snapshot, overHttp);
    } else {
      const first = planFullHistoryTurn(request, snapshot, brokenChain - 1);
      plan = { ...first, mode: "full", reason: options.reason ?? first.reason };
    }
    if (options.reason && plan.mode === "full") plan = { ...plan, reason: options.reason };
    if (options.overflow) plan = { ...plan, fullInput: null };
    plan = this.#withoutForeignReasoning(plan);
    const opened = await openResponsesStream(this.#upstream!, { body: JSON.stringify(plan.request), headers }, { idleTimeoutMs: this.configuration.streamIdleTimeoutMs, signal: options.signal });
    const held = await holdUntilOutput(opened.events, this.configuration.streamIdleTimeoutMs, { signal: options.signal });
    if (held.kind === "failed") {
      this.#breakChain();
      throw held.error;
    }
    const items = chainedByClient ? undefined : inputItems(request.input);
    if (this.#upstream!.kind === "chatgpt" && this.#header.accountId) this.services.cooldowns.observeQuota(this.#header.accountId, opened.headers);
    return { events: this.#track(held.events, plan, request, overHttp, items), mode: plan.mode, reason: plan.reason, headers: opened.headers, chainId: this.id };
  }

  /** Watches a released response to retain what the next turn builds on. */
  #track(events: EventReader, plan: TurnPlan, request: Record<string, unknown>, generation: number, items?: unknown[]): EventReader {
    const outputs = new Map<number, unknown>();
    const keptInputItems = plan.mode === "delta" ? this.#header.inputCount : 0;
    this.#moved = false;
    return mapReader<EventBatch, EventBatch>(events, {
      map: (batch) => {
        for (const event of batch) {
          if (event.type === "response.output_item.done") {
            const payload = eventPayload(event);
            if (typeof payload.output_index === "number") outputs.set(payload.output_index, payload.item);
          } else if (terminalEventTypes.has(event.type)) {
            this.#settle(event.type, eventPayload(event).response, orderedValues(outputs), { plan, request, generation, keptInputItems, items });
          }
        }
        return batch;
      },
    });
  }

  /**
   * The response ended: retain it for the next turn, or break the chain. Memory is updated at
   * once; the storage write (one transaction) runs just after, once the terminal event that
   * passes through here has gone to the client: a write before it would hold the client's last
   * bytes for as long as the write takes (measured ~1.5 ms a turn, docs/performance.md; on
   * Cloudflare an output gate holds them until the write is durable). Whatever happens, the
   * client's stream goes on unchanged: a storage failure costs the next turn a full send.
   */
  #settle(
    terminalType: string,
    response: unknown,
    outputs: unknown[],
    turn: { plan: TurnPlan; request: Record<string, unknown>; generation: number; keptInputItems: number; items: unknown[] | undefined },
  ): void {
    this.#header.lastActivity = Date.now();
    if (!this.hooks.live()) return;
    // What storage holds until this turn's write succeeds.
    const stored = this.#header;
    try {
      // Ownership matters only when a chain can move to another account.
      if (this.configuration.accounts.length > 1) this.reasoningOwners.record(outputs, this.#header.accountId!);
      const fullInput = turn.plan.fullInput;
      if (terminalType !== "response.completed" || !isRecord(response) || typeof response.id !== "string" || !fullInput) {
        // Failed or incomplete responses are evicted by the provider (docs/protocol.md §2).
        this.#breakChain();
        return;
      }
      const output = Array.isArray(response.output) && response.output.length > 0 ? response.output : outputs;
      const outputTexts = output.map((item) => JSON.stringify(item));
      const key = fieldsKey(turn.request);
      const header: ChainHeader = {
        ...this.#header,
        lastResponseId: response.id,
        connectionGeneration: turn.generation,
        inputCount: fullInput.length,
        retainedCharacters: charactersOf(fullInput) + charactersOf(outputTexts),
        // The first item rarely changes (it is the same string when the history was recognised).
        firstItemKey: fullInput[0] === this.#inputTexts?.[0] && this.#header.firstItemKey !== undefined ? this.#header.firstItemKey : firstItemKey(fullInput[0]),
      };
      const changedFieldsKey = key === this.fieldsKey ? undefined : key;
      this.#header = header;
      this.#fieldsKey = key;
      this.#inputTexts = fullInput;
      this.#outputItems = output;
      this.known = turn.items && turn.items.length === fullInput.length ? knownInput(turn.items, fullInput, this.known) : undefined;
      this.#unsaved = () => {
        try {
          this.store.saveTurn(header, { fieldsKey: changedFieldsKey, inputItems: fullInput, keptInputItems: turn.keptInputItems, outputItems: outputTexts });
        } catch (error) {
          this.#notRetained(error, stored);
        }
      };
      setTimeout(() => this.persist(), 0);
    } catch (error) {
      this.#notRetained(error, stored);
    }
    this.hooks.retained(this);
  }

  /**
   * The provider no longer holds the last response (a failure evicts it): the next turn goes in
   * full. What was retained stays, so that a chained request can still be rebuilt into a full input.
   */
  #breakChain(): void {
    // A turn still waiting to be written goes first, or it would overwrite the broken header.
    this.persist();
    if (this.#header.connectionGeneration === brokenChain) return;
    this.#header = { ...this.#header, connectionGeneration: brokenChain };
    if (!this.hooks.live()) return;
    try {
      this.store.saveHeader(this.#header);
    } catch (error) {
      console.error(JSON.stringify({ level: "warn", message: "a session chain could not be marked broken", chain: this.id, error: String(error) }));
    }
  }
}

function withoutType(request: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, ...rest } = request;
  return rest;
}

function orderedValues(map: Map<number, unknown>): unknown[] {
  return [...map.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
}

function charactersOf(texts: readonly string[]): number {
  let size = 0;
  for (const text of texts) size += text.length;
  return size;
}
