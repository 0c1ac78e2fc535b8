/**
 * The session Durable Object: one per (gateway key, session id), so a session is sticky
 * worldwide with no server of ours. The runtime entry points below are plumbing; the turns live
 * in `Session` (its chains, `chain.ts`), the client WebSocket protocol in `client-socket.ts`.
 *
 * Memory (upstream sockets, retained input) is a cache; storage is the truth, so an evicted or
 * restarted object recovers with a full send on a new connection. Storage is deleted
 * SESSION_RETENTION_MS after the last turn, and at once for a session that only existed for one
 * client WebSocket that named no session.
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfiguration, type Configuration } from "../configuration/configuration";
import { toGatewayError } from "../errors/gateway-error";
import { openAiErrorResponse } from "../errors/render-openai-error";
import { parseCreateResponseRequest } from "../inbound/responses/create-response-request";
import { respondWithEvents } from "../inbound/responses/respond-with-events";
import { readBodyText } from "../inbound/read-json-body";
import { RequestLog } from "../middleware/request-log";
import { accountServices } from "../accounts/account-services";
import { pickForwardedRequestHeaders, pickReturnedResponseHeaders } from "../upstream/upstream-headers";
import { accountRequest, assertModelAllowed, teamServices, type Caller } from "../team/caller";
import { ChainStore } from "./chain-store";
import { ClientSockets } from "./client-socket";
import { Session, type SessionTurn } from "./session";

/** Every header the gateway's parts pass between them starts so; clients' are dropped at the edge. */
export const internalHeaderPrefix = "x-turnpike-";

/** Internal headers the Worker sets when it hands a request to the session. */
export const internalHeaders = {
  requestId: "x-turnpike-request-id",
  route: "x-turnpike-route",
  /** `caller`: the Worker translates the answer and writes the log line itself. */
  logOwner: "x-turnpike-log-owner",
  /** The Worker made the session id up (a WebSocket that named none): forget it when the socket goes. */
  ephemeral: "x-turnpike-ephemeral-session",
  /** Who is calling (src/team/caller.ts), as JSON: the session accounts for the requests it logs. */
  caller: "x-turnpike-caller",
} as const;

/** Only a GET opens a WebSocket (RFC 6455 §4.1): `Upgrade` on a POST is an ordinary request. */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** While a turn holds a socket past its deadline, the alarm looks again this soon. */
const busyRecheckMs = 5_000;

export class SessionDurableObject extends DurableObject<Record<string, unknown>> {
  // `env` is read by the client socket protocol (a key's gate).
  declare readonly env: Record<string, unknown>;
  readonly store: ChainStore;
  #session: Session | undefined;
  #clients: ClientSockets | undefined;
  /** When the alarm is due, as this instance set it (unknown after a restart: set again). */
  #alarmAt: number | undefined;
  /** HTTP turns in progress, by request id: the Worker cancels them when their client leaves. */
  readonly #httpTurns = new Map<string, AbortController>();

  constructor(context: DurableObjectState, environment: Record<string, unknown>) {
    super(context, environment);
    this.store = new ChainStore(context.storage);
  }

  get configuration(): Configuration {
    return loadConfiguration(this.env);
  }

  get session(): Session {
    this.#session ??= new Session(this.store, this.configuration, accountServices(this.configuration, this.env), () => this.clients.openChains());
    return this.#session;
  }

  get clients(): ClientSockets {
    this.#clients ??= new ClientSockets(this);
    return this.#clients;
  }

  override async fetch(request: Request): Promise<Response> {
    const log = new RequestLog(request.headers.get(internalHeaders.requestId) ?? undefined, (promise) => this.waitUntil(promise));
    log.route = request.headers.get(internalHeaders.route) ?? "session";
    log.extra.session_ref = this.ctx.id.toString().slice(0, 12);
    const caller = callerFrom(request.headers);
    if (request.headers.get(internalHeaders.logOwner) === "caller") log.delegate();
    else this.account(log, caller);
    try {
      if (isWebSocketUpgrade(request)) {
        if (request.headers.get(internalHeaders.ephemeral) === "1") this.store.setValue("ephemeral", "1");
        return await this.clients.accept(request, caller);
      }
      const response = await this.#httpTurn(request, log, caller);
      log.status = response.status;
      if (!log.streaming) log.write();
      return response;
    } catch (caught) {
      const error = toGatewayError(caught);
      log.status = error.status;
      log.errorKind = error.kind;
      log.write();
      return openAiErrorResponse(error);
    }
  }

  /** The Worker's word that a request's client went away (RPC, see session-routing.ts). */
  cancelTurn(requestId: string): void {
    this.#httpTurns.get(requestId)?.abort(new Error("client went away"));
  }

  /** Starts a turn; its chain is released when its stream settles (`turn.release`). */
  async startTurn(...args: Parameters<Session["startTurn"]>): Promise<SessionTurn> {
    try {
      return await this.session.startTurn(...args);
    } finally {
      this.scheduleAlarm();
    }
  }

  /** The request's usage row, and its tokens and stream place back to its key's gate, when its line is written. */
  account(log: RequestLog, caller: Caller): void {
    accountRequest(log, caller, { services: teamServices(this.env), prices: this.configuration.prices, waitUntil: (promise) => this.ctx.waitUntil(promise), owner: this.ctx });
  }

  async #httpTurn(request: Request, log: RequestLog, caller: Caller): Promise<Response> {
    const configuration = this.configuration;
    const { body, recognised } = this.session.parseBody(await readBodyText(request, configuration.maxBodyBytes));
    // The resent history was recognised by its text and not parsed again (resent-history.ts).
    if (recognised) log.extra.history = "recognised";
    const parsed = parseCreateResponseRequest(body);
    log.model = parsed.model;
    // The Worker passed the body on unread (a session named in a header): the key's models are checked here.
    assertModelAllowed(caller, parsed.model);
    // The client's disconnect cancels the turn at once (request.signal, or the Worker's cancelTurn).
    const cancel = new AbortController();
    this.#httpTurns.set(log.requestId, cancel);
    request.signal?.addEventListener("abort", () => cancel.abort(), { once: true });
    let turn: SessionTurn;
    try {
      turn = await this.startTurn(body, pickForwardedRequestHeaders(request.headers), log, { signal: cancel.signal });
    } finally {
      this.#httpTurns.delete(log.requestId);
    }
    describeTurn(log, turn);
    const headers = pickReturnedResponseHeaders(turn.headers);
    headers.set("x-turnpike-turn", turn.mode);
    headers.set("x-turnpike-chain", turn.chainId);
    headers.set("x-turnpike-chains", String(turn.chains));
    if (turn.reason) headers.set("x-turnpike-full-reason", turn.reason);
    if (recognised) headers.set("x-turnpike-history", "recognised");
    try {
      return await respondWithEvents(turn.events, {
        streaming: parsed.stream === true,
        headers,
        configuration,
        log,
        onSettled: () => {
          turn.release();
          this.scheduleAlarm();
        },
      });
    } finally {
      if (parsed.stream !== true) turn.release();
    }
  }

  /** Keeps the object's current event alive for work after it (a log line written after its stream). */
  waitUntil(promise: Promise<unknown>): void {
    this.ctx.waitUntil(promise);
  }

  acceptWebSocket(socket: WebSocket): void {
    this.ctx.acceptWebSocket(socket);
  }

  /** The clients' sockets this object holds (accepted with the hibernation API). */
  clientSockets(): WebSocket[] {
    return this.ctx.getWebSockets();
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.clients.onMessage(socket, message);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.clients.onClose(socket, code, reason);
    await this.#forgetIfEphemeral(socket);
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    this.clients.onClose(socket, 1011, "error");
    await this.#forgetIfEphemeral(socket);
  }

  /**
   * Closes idle upstream sockets and those at their lifetime (the provider's limit is 60 min),
   * and deletes the session's storage once it was not used for SESSION_RETENTION_MS.
   */
  override async alarm(): Promise<void> {
    this.#alarmAt = undefined;
    const session = this.session;
    const now = Date.now();
    session.closeDueSockets(now);
    if (!session.busy && now >= session.retentionDeadline() && this.clientSockets().length === 0) {
      await this.#forget("retention");
      return;
    }
    this.scheduleAlarm(session.busy ? now + busyRecheckMs : undefined);
  }

  /**
   * Makes sure an alarm is due no later than the next deadline: a socket's idle or lifetime
   * limit, or the storage's retention. Deadlines only move later as turns happen, and the alarm
   * re-checks them when it fires, so an alarm already due earlier is kept: no storage write on
   * every turn.
   */
  scheduleAlarm(at?: number): void {
    const session = this.session;
    const socketDue = session.nextSocketDeadline();
    const retentionDue = session.retentionDeadline();
    const due = Math.max(Math.min(at ?? Infinity, socketDue ?? Infinity, retentionDue), Date.now() + 10);
    if (this.#alarmAt !== undefined && this.#alarmAt <= due) return;
    this.#alarmAt = due;
    this.ctx.storage.setAlarm(due).catch(() => {
      this.#alarmAt = undefined;
    });
  }

  async #forgetIfEphemeral(closing: WebSocket): Promise<void> {
    if (this.store.value("ephemeral") !== "1") return;
    const open = this.clientSockets().filter((socket) => socket !== closing && socket.readyState === WebSocket.OPEN);
    if (open.length === 0) await this.#forget("its only client socket closed");
  }

  /** Everything this session stored goes, and its upstream sockets close. */
  async #forget(reason: string): Promise<void> {
    this.#session?.retire(reason);
    this.#session = undefined;
    this.#alarmAt = undefined;
    await this.store.deleteAll();
  }
}

/** The caller the Worker authenticated; a request without one (a test calling the object) is "open". */
function callerFrom(headers: Headers): Caller {
  const text = headers.get(internalHeaders.caller);
  if (text) {
    try {
      return JSON.parse(text) as Caller;
    } catch {
      // Only the Worker sets this header (clients' are dropped at the edge).
    }
  }
  return { keyId: "open", sessionScope: "open", name: "open", models: null };
}

/** What the session did with the turn, in the request's log line. */
export function describeTurn(log: RequestLog, turn: SessionTurn): void {
  log.extra.turn = turn.mode;
  log.extra.full_reason = turn.reason;
  log.extra.chain = turn.chainId;
  log.extra.chains = turn.chains;
}
