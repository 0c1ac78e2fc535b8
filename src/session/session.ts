/**
 * One session's turns: which upstream connection they go on, whether each is sent as a delta
 * or in full, recovery when the connection or the provider's state is lost, and what is
 * retained for the next turn. Owned by the session Durable Object (one per session), which
 * also guarantees that two turns never run at once.
 */
import type { Configuration } from "../configuration/configuration";
import { toGatewayError } from "../errors/gateway-error";
import { eventPayload, isRecord, terminalEventTypes } from "../streams/responses-event";
import { mapReader, type EventBatch, type EventReader } from "../streams/event-reader";
import { openResponsesStream } from "../upstream/open-responses-stream";
import { prepareRequestObject, type ResponsesUpstream } from "../upstream/responses-upstream";
import type { ResponsesSocket } from "../upstream/responses-socket";
import type { Account, Transport } from "../accounts/accounts-configuration";
import type { AccountServices } from "../accounts/account-services";
import { withFailover, type Candidate } from "../accounts/failover";
import type { RequestLog } from "../middleware/request-log";
import { ReasoningOwners } from "./reasoning-owners";
import { knownInput, parseWithKnownInput, type KnownInput } from "./resent-history";
import { parseJsonObject } from "../shared/json-object";
import { holdUntilOutput } from "../streams/hold-until-output";
import type { SessionStore } from "./session-store";
import {
  asFullSend,
  fieldsKey,
  planChainedTurn,
  planFullHistoryTurn,
  type FullSendReason,
  type SessionSnapshot,
  inputItems,
  type TurnPlan,
} from "./turn-planner";

/** How long a client's WebSocket upgrade waits for the upstream's own. */
const clientUpgradeWaitMs = 3_000;

/** A connection generation no socket ever has: the retained state cannot be chained from. */
const brokenChain = -1;

/** Provider answers that mean "your continuation is gone": resend in full, on a new connection. */
const lostContinuationCodes = new Set(["previous_response_not_found", "websocket_connection_limit_reached"]);

export interface StartedTurn {
  events: EventReader;
  mode: "delta" | "full";
  reason: FullSendReason | undefined;
  /** Response headers worth passing on (turn state, rate limits). */
  headers: Headers;
}

export class Session {
  #snapshot: SessionSnapshot | undefined;
  #loaded = false;
  #socket: ResponsesSocket | undefined;
  #opening: Promise<void> | undefined;
  /** The last full-history input, to recognise it in the next body (in memory only). */
  #knownInput: KnownInput | undefined;
  #generation = 0;
  /** The account this session's continuation lives on (sticky; stored). */
  #accountId: string | undefined;
  #upstream: ResponsesUpstream | undefined;
  #transport: Transport = "websocket";
  /** The session changed account since its last turn: the next send is full, and says why. */
  #moved = false;
  readonly #reasoningOwners: ReasoningOwners;
  lastActivity = Date.now();

  constructor(
    private readonly store: SessionStore,
    private readonly configuration: Configuration,
    private readonly services: AccountServices,
  ) {
    this.#accountId = store.value("account");
    this.#reasoningOwners = new ReasoningOwners(store);
  }

  get lastResponseId(): string | undefined {
    return this.#loadSnapshot()?.lastResponseId;
  }

  get socketOpenedAt(): number | undefined {
    return this.#socket?.isOpen ? this.#socket.openedAt : undefined;
  }

  /**
   * A turn's body from its text. A body that resends the last turn's input unchanged (HTTP
   * clients, every turn) is parsed only around it: see resent-history.ts.
   */
  parseBody(text: string): { body: Record<string, unknown>; recognised: boolean } {
    const known = this.#knownInput;
    const recognised = known && parseWithKnownInput(text, known);
    return recognised ? { body: recognised, recognised: true } : { body: parseJsonObject(text), recognised: false };
  }

  /**
   * Starts a turn on the session's account, or — when it cannot serve before any output — on the
   * next candidate (`withFailover`); resolves once the first output is on the way.
   */
  async startTurn(body: Record<string, unknown>, forwardedHeaders: Headers, log: RequestLog): Promise<StartedTurn> {
    this.lastActivity = Date.now();
    const { result } = await withFailover({
      configuration: this.configuration,
      cooldowns: this.services.cooldowns,
      model: String(body.model),
      log,
      preferredAccountId: this.#accountId,
      run: (candidate) => this.#turnOn(candidate, body, forwardedHeaders),
    });
    return result;
  }

  async #turnOn(candidate: Candidate, body: Record<string, unknown>, forwardedHeaders: Headers): Promise<StartedTurn> {
    this.#useAccount(candidate.account);
    const upstream = this.#upstream!;
    const request = prepareRequestObject(upstream.kind, { ...body, stream: true }, candidate.upstreamModel);
    const snapshot = this.#loadSnapshot();
    if (this.#transport === "http") return this.#startHttpTurn(request, snapshot, forwardedHeaders);
    const items = typeof request.previous_response_id === "string" ? undefined : inputItems(request.input);

    await this.#ensureSocket(forwardedHeaders);
    let plan = this.#plan(request, snapshot);
    for (let attempt = 0; ; attempt += 1) {
      const socket = this.#socket!;
      const generation = this.#generation;
      const held = await holdUntilOutput(socket.create(withoutType(plan.request)), this.configuration.streamIdleTimeoutMs);
      if (held.kind === "released") {
        return { events: this.#track(held.events, plan, request, generation, items), mode: plan.mode, reason: plan.reason, headers: socket.upgradeHeaders };
      }
      this.#breakChain();
      const lost = !socket.isOpen || (held.code !== undefined && lostContinuationCodes.has(held.code));
      const retry = attempt === 0 && lost ? asFullSend(plan, "reconnect") : undefined;
      if (!retry) throw held.error;
      // Nothing reached the client yet: a fresh connection and the whole input, transparently.
      this.closeSocket("continuation lost");
      await this.#ensureSocket(forwardedHeaders);
      plan = this.#withoutForeignReasoning(retry);
    }
  }

  /**
   * Opens the upstream socket before any turn, for a client's WebSocket upgrade, and returns its
   * upgrade headers (older ChatGPT backends put `x-codex-turn-state` there, which the client's
   * 101 carries back). Only when the account is known without a model — the session's own, or
   * the only one; otherwise, or on failure, the first turn opens it (with failover, and reports
   * a failure in-band). Never throws.
   */
  async prepareSocket(forwardedHeaders: Headers): Promise<Headers | undefined> {
    const accounts = this.configuration.accounts;
    const account = accounts.find((candidate) => candidate.id === this.#accountId) ?? (accounts.length === 1 ? accounts[0] : undefined);
    if (!account || account.transport !== "websocket") return undefined;
    try {
      this.#useAccount(account);
      const opening = this.#ensureSocket(forwardedHeaders);
      // The client's upgrade waits a little, not the whole idle limit: past that it is let in
      // without the headers, and its first turn waits for (or retries) the opening.
      const opened = await settlesWithin(opening, clientUpgradeWaitMs);
      if (!opened) opening.catch(() => {});
      return opened ? this.#socket?.upgradeHeaders : undefined;
    } catch (error) {
      console.error(JSON.stringify({ level: "warn", message: "upstream socket not opened at upgrade; the first turn retries", error: toGatewayError(error).kind }));
      return undefined;
    }
  }

  /** Closes the upstream socket (idle, lifetime, shutdown). The next turn opens a new one. */
  closeSocket(reason: string): void {
    this.#socket?.close(1000, reason);
    this.#socket = undefined;
  }

  #plan(request: Record<string, unknown>, snapshot: SessionSnapshot | undefined): TurnPlan {
    let plan =
      typeof request.previous_response_id === "string"
        ? planChainedTurn(request, snapshot, this.#generation)
        : planFullHistoryTurn(request, snapshot, this.#generation);
    // A session that changed account resends everything it retained, on the new account.
    if (this.#moved) {
      const full = asFullSend(plan, "account_moved");
      if (full) plan = { ...full, reason: "account_moved" };
    }
    plan = this.#withoutForeignReasoning(plan);
    if (plan.fullInput && retainedSize(plan.fullInput) > this.configuration.session.maxRetainedBytes) {
      return { ...plan, fullInput: null, ...(plan.mode === "full" ? { reason: "retained_too_large" as const } : {}) };
    }
    return plan;
  }

  /** Encrypted reasoning is bound to the account that produced it: another one rejects it. */
  #withoutForeignReasoning(plan: TurnPlan): TurnPlan {
    if (plan.mode !== "full") return plan;
    return { ...plan, request: this.#reasoningOwners.stripForeign(plan.request, this.#accountId!) };
  }

  /** Switches to `account` if the session is elsewhere: its continuation does not move with it. */
  #useAccount(account: Account): void {
    if (this.#accountId === account.id && this.#upstream) return;
    if (this.#accountId !== undefined && this.#accountId !== account.id) {
      // What was retained stays: the next send rebuilds the whole input from it (see #plan).
      this.closeSocket("account changed");
      this.#moved = true;
    }
    this.#accountId = account.id;
    this.#upstream = this.services.upstreamFor(account);
    this.#transport = account.transport;
    this.store.setValue("account", account.id);
  }

  async #startHttpTurn(request: Record<string, unknown>, snapshot: SessionSnapshot | undefined, headers: Headers): Promise<StartedTurn> {
    // Over HTTP a previous response is reachable only if the provider stored it, on this account.
    const chainable = request.store === true && typeof request.previous_response_id !== "string" && !this.#moved;
    const plan: TurnPlan = this.#withoutForeignReasoning(
      chainable
        ? planFullHistoryTurn(request, snapshot, 0)
        : { mode: "full", reason: this.#moved ? "account_moved" : snapshot ? "fields_changed" : "first_turn", request, fullInput: null },
    );
    const opened = await openResponsesStream(
      this.#upstream!,
      { body: JSON.stringify(plan.request), headers },
      { idleTimeoutMs: this.configuration.streamIdleTimeoutMs },
    );
    const held = await holdUntilOutput(opened.events, this.configuration.streamIdleTimeoutMs);
    if (held.kind === "failed") {
      this.#breakChain();
      throw held.error;
    }
    return { events: this.#track(held.events, plan, request, 0), mode: plan.mode, reason: plan.reason, headers: opened.headers };
  }

  async #ensureSocket(headers: Headers): Promise<void> {
    const socket = this.#socket;
    const age = socket ? Date.now() - socket.openedAt : 0;
    if (socket?.isOpen && age < this.configuration.session.maxLifetimeMs) return;
    // One opening at a time: a client's upgrade and a turn may both find no socket.
    if (this.#opening) return this.#opening;
    socket?.close(1000, "lifetime reached");
    this.#opening = this.#upstream!.openSocket(headers, this.configuration.streamIdleTimeoutMs).then((opened) => {
      this.#socket = opened;
      // A new connection holds no previous response: ids from older generations cannot be chained.
      this.#generation = this.store.increment("connection_generation");
    });
    try {
      await this.#opening;
    } finally {
      this.#opening = undefined;
    }
  }

  /** Watches a released response to retain what the next turn builds on. */
  #track(events: EventReader, plan: TurnPlan, request: Record<string, unknown>, generation: number, items?: unknown[]): EventReader {
    const outputs = new Map<number, unknown>();
    const previous = this.#snapshot;
    const accountId = this.#accountId!;
    this.#moved = false;
    return mapReader<EventBatch, EventBatch>(events, {
      map: (batch) => {
        for (const event of batch) {
          if (event.type === "response.output_item.done") {
            const payload = eventPayload(event);
            if (typeof payload.output_index === "number") outputs.set(payload.output_index, payload.item);
          } else if (terminalEventTypes.has(event.type)) {
            this.lastActivity = Date.now();
            const response = eventPayload(event).response;
            this.#reasoningOwners.record(orderedValues(outputs), accountId);
            if (event.type === "response.completed" && isRecord(response) && typeof response.id === "string" && plan.fullInput) {
              const output = Array.isArray(response.output) && response.output.length > 0 ? response.output : orderedValues(outputs);
              const snapshot = { lastResponseId: response.id, fieldsKey: fieldsKey(request), inputItems: plan.fullInput, outputItems: output, connectionGeneration: generation };
              // A delta turn's input starts with what is already stored: append only the rest.
              const kept = plan.mode === "delta" && previous ? previous.inputItems.length : 0;
              this.#remember(snapshot, kept);
              this.#knownInput = items && items.length === plan.fullInput.length ? knownInput(items, plan.fullInput, this.#knownInput) : undefined;
            } else {
              // Failed or incomplete responses are evicted by the provider (protocol §2).
              this.#breakChain();
            }
          }
        }
        return batch;
      },
    });
  }

  #loadSnapshot(): SessionSnapshot | undefined {
    if (!this.#loaded) {
      this.#snapshot = this.store.loadSnapshot();
      this.#loaded = true;
    }
    return this.#snapshot;
  }

  #remember(snapshot: SessionSnapshot, keptInputItems: number): void {
    this.#snapshot = snapshot;
    this.store.saveSnapshot(snapshot, keptInputItems);
  }

  /**
   * The provider no longer holds the last response (a failure evicts it, protocol §2): the
   * next turn goes in full. What was retained stays, so that a chained request can still be
   * rebuilt into a full input.
   */
  #breakChain(): void {
    const snapshot = this.#loadSnapshot();
    if (!snapshot || snapshot.connectionGeneration === brokenChain) return;
    this.#snapshot = { ...snapshot, connectionGeneration: brokenChain };
    this.store.markChainBroken();
  }
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

function withoutType(request: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, ...rest } = request;
  return rest;
}

function orderedValues(map: Map<number, unknown>): unknown[] {
  return [...map.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
}

function retainedSize(items: string[]): number {
  let size = 0;
  for (const item of items) size += item.length;
  return size;
}

