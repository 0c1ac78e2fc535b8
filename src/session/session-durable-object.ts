/**
 * The session Durable Object: one per (gateway key, session id), so a session is sticky
 * worldwide with no server of ours. The runtime entry points below are plumbing; the turn logic
 * lives in `Session`, the client WebSocket protocol in `client-socket.ts`.
 *
 * Memory (the upstream socket) is a cache; storage (retained input, last response id,
 * connection generation) is the truth, so an evicted or restarted object recovers with a full
 * send on a new connection.
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
import { ClientSockets } from "./client-socket";
import { Session, type StartedTurn } from "./session";
import { SessionStore } from "./session-store";
import { TurnLock } from "./turn-lock";

/** Every header the gateway's parts pass between them starts so; clients' are dropped at the edge. */
export const internalHeaderPrefix = "x-turnpike-";

/** Internal headers the Worker sets when it hands a request to the session. */
export const internalHeaders = {
  requestId: "x-turnpike-request-id",
  route: "x-turnpike-route",
  /** `caller`: the Worker translates the answer and writes the log line itself. */
  logOwner: "x-turnpike-log-owner",
} as const;

/** Only a GET opens a WebSocket (RFC 6455 §4.1): `Upgrade` on a POST is an ordinary request. */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

export class SessionDurableObject extends DurableObject<Record<string, unknown>> {
  readonly lock = new TurnLock();
  readonly store: SessionStore;
  #session: Session | undefined;
  #clients: ClientSockets | undefined;
  /** When the alarm is due, as this instance set it (unknown after a restart: set again). */
  #alarmAt: number | undefined;

  constructor(context: DurableObjectState, environment: Record<string, unknown>) {
    super(context, environment);
    this.store = new SessionStore(context.storage.sql);
  }

  get configuration(): Configuration {
    return loadConfiguration(this.env);
  }

  get session(): Session {
    this.#session ??= new Session(this.store, this.configuration, accountServices(this.configuration, this.env));
    return this.#session;
  }

  get clients(): ClientSockets {
    this.#clients ??= new ClientSockets(this);
    return this.#clients;
  }

  override async fetch(request: Request): Promise<Response> {
    const log = new RequestLog(request.headers.get(internalHeaders.requestId) ?? undefined);
    log.route = request.headers.get(internalHeaders.route) ?? "session";
    if (request.headers.get(internalHeaders.logOwner) === "caller") log.delegate();
    try {
      if (isWebSocketUpgrade(request)) return await this.clients.accept(request);
      const response = await this.#httpTurn(request, log);
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

  /** Starts a turn under the session lock; the lock is released when its stream settles. */
  async startTurn(body: Record<string, unknown>, headers: Headers, release: () => void, log: RequestLog): Promise<StartedTurn> {
    try {
      return await this.session.startTurn(body, headers, log);
    } catch (error) {
      release();
      throw error;
    } finally {
      this.scheduleAlarm();
    }
  }

  async #httpTurn(request: Request, log: RequestLog): Promise<Response> {
    const configuration = this.configuration;
    const { body, recognised } = this.session.parseBody(await readBodyText(request, configuration.maxBodyBytes));
    // The resent history was recognised by its text and not parsed again (resent-history.ts).
    if (recognised) log.extra.history = "recognised";
    const parsed = parseCreateResponseRequest(body);
    log.model = parsed.model;
    const release = await this.lock.acquire(configuration.session.busyWaitMs);
    const turn = await this.startTurn(body, pickForwardedRequestHeaders(request.headers), release, log);
    log.extra.turn = turn.mode;
    log.extra.full_reason = turn.reason;
    const headers = pickReturnedResponseHeaders(turn.headers);
    headers.set("x-turnpike-turn", turn.mode);
    if (turn.reason) headers.set("x-turnpike-full-reason", turn.reason);
    if (recognised) headers.set("x-turnpike-history", "recognised");
    try {
      return await respondWithEvents(turn.events, {
        streaming: parsed.stream === true,
        headers,
        configuration,
        log,
        onSettled: () => {
          release();
          this.scheduleAlarm();
        },
      });
    } finally {
      if (parsed.stream !== true) release();
    }
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
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    this.clients.onClose(socket, 1011, "error");
  }

  /** Closes the upstream socket when idle or at its lifetime (the provider's limit is 60 min). */
  override async alarm(): Promise<void> {
    this.#alarmAt = undefined;
    const session = this.#session;
    const openedAt = session?.socketOpenedAt;
    if (!session || openedAt === undefined) return;
    if (this.lock.busy) {
      this.#alarmAt = Date.now() + 5_000;
      await this.ctx.storage.setAlarm(this.#alarmAt);
      return;
    }
    const { idleTimeoutMs, maxLifetimeMs } = this.configuration.session;
    const now = Date.now();
    if (now - session.lastActivity >= idleTimeoutMs) session.closeSocket("idle");
    else if (now - openedAt >= maxLifetimeMs) session.closeSocket("lifetime reached");
    else this.scheduleAlarm();
  }

  /**
   * Makes sure an alarm is due no later than the idle or lifetime deadline. Deadlines only move
   * later as turns happen, and the alarm re-checks both when it fires, so an alarm already due
   * earlier is kept: no storage write on every turn.
   */
  scheduleAlarm(): void {
    const session = this.#session;
    const openedAt = session?.socketOpenedAt;
    if (!session || openedAt === undefined) return;
    const { idleTimeoutMs, maxLifetimeMs } = this.configuration.session;
    const due = Math.max(Math.min(session.lastActivity + idleTimeoutMs, openedAt + maxLifetimeMs), Date.now() + 10);
    if (this.#alarmAt !== undefined && this.#alarmAt <= due) return;
    this.#alarmAt = due;
    this.ctx.storage.setAlarm(due).catch(() => {
      this.#alarmAt = undefined;
    });
  }
}

