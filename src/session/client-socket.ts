/**
 * The Responses WebSocket towards clients (Codex with `supports_websockets`, the OpenAI SDK's
 * realtime-style clients): `response.create` (including `generate: false` warm-ups and
 * `previous_response_id` chains) and the legacy `response.append` in; events out as JSON text
 * frames; errors as nested `{type:"error", status, error:{…}}` frames (docs/protocol.md §2).
 * A second `response.create` while one is in flight gets an error frame, never a dropped socket.
 *
 * Each client socket is one conversation: it owns a chain of the session (chain.ts) for as long
 * as it is open, and its turns never go elsewhere. A client that leaves cancels its turn at once,
 * whether or not output has started.
 */
import { GatewayError, toGatewayError } from "../errors/gateway-error";
import { openAiErrorBody } from "../errors/render-openai-error";
import { parseCreateResponseRequest } from "../inbound/responses/create-response-request";
import { RequestLog } from "../middleware/request-log";
import { assertJsonDepth } from "../shared/json-object";
import { isRecord } from "../streams/responses-event";
import type { EventReader } from "../streams/event-reader";
import { superviseResponsesEvents } from "../streams/supervise-responses-events";
import { pickForwardedRequestHeaders, pickReturnedResponseHeaders } from "../upstream/upstream-headers";
import { assertModelAllowed, keyLimitError, teamServices, type Caller } from "../team/caller";
import { gateFor } from "../team/gateway-keys";
import { describeTurn, type SessionDurableObject } from "./session-durable-object";

interface SocketAttachment {
  headers: [string, string][];
  /** The session chain this socket's conversation lives on. */
  chainId: string;
  /** Who opened the socket: each of its turns is admitted by the key's gate and accounted for. */
  caller?: Caller;
}

/** A turn of one socket: cancelled when the client leaves, before or after its first output. */
interface SocketTurn {
  abort: AbortController;
  reader?: EventReader;
}

/**
 * The close frame that answers a client's close (RFC 6455 §5.5.1, §7.4). A valid code is echoed;
 * a close without a status code (the runtime reports 1005 — also for a 1-byte payload and a
 * 1005 on the wire, which it does not tell apart) is answered with a plain 1000; a code no peer
 * may send (999, 1004, 1006 or 1015 on the wire, 5000…) is a protocol error, 1002.
 */
export function closeAnswer(code: number): number {
  if (code === 1005) return 1000;
  const valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  return valid ? code : 1002;
}

export class ClientSockets {
  /** The turn each socket has in flight, to refuse a second one and to cancel it when the client leaves. */
  readonly #inFlight = new Map<WebSocket, SocketTurn>();
  /** The last request of each socket, for `response.append`. */
  readonly #lastRequest = new Map<WebSocket, Record<string, unknown>>();
  /** When each socket was last sent a frame, and how many events of its current turn (for keepalives). */
  readonly #sent = new Map<WebSocket, { at: number; turnEvents: number }>();
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly object: SessionDurableObject) {}

  async accept(request: Request, caller: Caller): Promise<Response> {
    if (this.object.configuration.websocketMode === "off") {
      throw new GatewayError("invalid_request", "WebSocket mode is turned off on this gateway; use HTTP.", { status: 426 });
    }
    const forwarded = pickForwardedRequestHeaders(request.headers);
    // The socket's own chain, and its upstream socket opened now when it can, so that its upgrade
    // headers (the turn state of older ChatGPT backends, rate limits) reach the client's 101.
    const { chainId, upgradeHeaders: upstreamHeaders } = await this.object.session.openSocketChain(forwarded);
    // An upstream socket opened here is closed by the idle alarm even if no turn ever comes.
    this.object.scheduleAlarm();
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.object.acceptWebSocket(server);
    const attachment: SocketAttachment = { headers: [...forwarded], chainId, caller };
    server.serializeAttachment(attachment);
    this.#sent.set(server, { at: Date.now(), turnEvents: 0 });
    this.#keepAlive();
    const headers = upstreamHeaders ? pickReturnedResponseHeaders(upstreamHeaders) : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  async onMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const log = new RequestLog(undefined, (promise) => this.object.waitUntil(promise));
    log.route = "WS response.create";
    let own: SocketTurn | undefined;
    try {
      const attachment = this.#attachment(socket);
      const body = this.#requestFrom(socket, message, attachment);
      log.model = parseCreateResponseRequest(body).model;
      if (this.#inFlight.has(socket)) {
        throw new GatewayError("conflict", "A response is already in progress on this socket; wait for it to finish.", { code: "response_in_progress" });
      }
      // Each turn is one of the key's requests: its limits, its models, its usage row.
      const caller = await this.#admit(attachment.caller);
      this.object.account(log, caller);
      assertModelAllowed(caller, log.model);
      own = { abort: new AbortController() };
      this.#inFlight.set(socket, own);
      this.#lastRequest.set(socket, body);
      const turn = await this.object.startTurn(body, new Headers(attachment.headers), log, { socketChainId: attachment.chainId, signal: own.abort.signal });
      describeTurn(log, turn);
      log.deferToStreamEnd();
      const events = superviseResponsesEvents(turn.events, {
        idleTimeoutMs: this.object.configuration.streamIdleTimeoutMs,
        outcome: log.outcome,
        onSettled: () => {
          turn.release();
          this.object.scheduleAlarm();
          log.streamSettled();
        },
      });
      // The client left while the turn was starting: it ends here.
      if (own.abort.signal.aborted) await events.cancel("client closed");
      else await this.#forward(socket, events, own);
    } catch (caught) {
      const error = toGatewayError(caught);
      log.status = error.status;
      log.errorKind = error.kind;
      log.write();
      sendErrorFrame(socket, error);
    } finally {
      if (own && this.#inFlight.get(socket) === own) this.#inFlight.delete(socket);
    }
  }

  /** Chains that belong to an open client socket (the session gives them no other turns). */
  openChains(): ReadonlySet<string> {
    const chains = new Set<string>();
    for (const socket of this.object.clientSockets()) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      const attachment = socket.deserializeAttachment() as Partial<SocketAttachment> | null;
      if (attachment?.chainId) chains.add(attachment.chainId);
    }
    return chains;
  }

  #attachment(socket: WebSocket): SocketAttachment {
    const attachment = (socket.deserializeAttachment() as Partial<SocketAttachment> | null) ?? {};
    return { headers: attachment.headers ?? [], chainId: attachment.chainId ?? "socket", caller: attachment.caller };
  }

  /** A turn of a team key's socket is admitted like any request (a revoked key's socket is refused from then on). */
  async #admit(caller: Caller | undefined): Promise<Caller> {
    const opened = caller ?? { keyId: "open", sessionScope: "open", name: "open", models: null };
    const services = teamServices(this.object.env);
    if (!opened.gate || !services) return opened;
    const verdict = await gateFor(services.gates, opened.gate).admit({ hold: true, count: true });
    switch (verdict.kind) {
      case "unknown":
      case "revoked":
        throw new GatewayError("authentication", "This gateway key was revoked.", { code: "key_revoked" });
      case "limited":
        throw keyLimitError(verdict.message, verdict.retryAfterSeconds);
      case "admitted":
        return { ...opened, models: verdict.models, lease: verdict.lease };
    }
  }

  onClose(socket: WebSocket, code: number, reason: string): void {
    const turn = this.#inFlight.get(socket);
    turn?.abort.abort();
    turn?.reader?.cancel("client closed").catch(() => {});
    this.#inFlight.delete(socket);
    this.#lastRequest.delete(socket);
    this.#sent.delete(socket);
    // With the hibernation API the runtime does not answer a close frame itself: every one is
    // answered here, at once, or the client waits for its own timeout and sees 1006.
    const answer = closeAnswer(code);
    try {
      socket.close(answer, answer === code ? reason : "");
    } catch {
      // Already gone: Codex drops the socket without a close frame (1006), which needs no answer.
    }
  }

  async #forward(socket: WebSocket, reader: EventReader, turn: SocketTurn): Promise<void> {
    turn.reader = reader;
    const sent = { at: Date.now(), turnEvents: 0 };
    this.#sent.set(socket, sent);
    this.#keepAlive();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        for (const event of value) socket.send(event.data);
        sent.at = Date.now();
        sent.turnEvents += value.length;
      }
    } catch {
      reader.cancel("client socket failed").catch(() => {});
    } finally {
      sent.turnEvents = 0;
    }
  }

  /**
   * Keepalive frames (docs/protocol.md §6): intermediaries close a WebSocket on which nothing
   * moves (Cloudflare's edge after ~100 s or more), and the runtime cannot send ping frames. A
   * socket that was sent nothing for KEEPALIVE_INTERVAL_MS gets a `turnpike:keepalive` event,
   * an Open Responses extension event (implementor-prefixed type and a sequence number, which
   * clients must ignore; Codex does). They go out while a turn is in flight — long reasoning is
   * silent — and between turns while the session holds its upstream socket (the object is
   * awake for it anyway); after that the object may hibernate and the socket idle.
   */
  #keepAlive(): void {
    const { keepaliveIntervalMs, websocketKeepalive } = this.object.configuration;
    if (websocketKeepalive === "off" || this.#keepaliveTimer !== undefined) return;
    this.#keepaliveTimer = setInterval(() => {
      const sockets = this.object.clientSockets();
      const holding = this.#inFlight.size > 0 || this.object.session.hasOpenSocket();
      if (sockets.length === 0 || !holding) {
        clearInterval(this.#keepaliveTimer);
        this.#keepaliveTimer = undefined;
        return;
      }
      const now = Date.now();
      for (const socket of sockets) {
        // A socket unknown here (the object woke from hibernation) gets one at once.
        const sent = this.#sent.get(socket) ?? { at: 0, turnEvents: 0 };
        if (now - sent.at < keepaliveIntervalMs) continue;
        // The last event's number again: the provider's numbering of the turn stays gap-free.
        const sequence = Math.max(0, sent.turnEvents - 1);
        try {
          socket.send(JSON.stringify({ type: "turnpike:keepalive", sequence_number: sequence }));
          sent.at = now;
          this.#sent.set(socket, sent);
        } catch {
          // Closing: its close event cleans up.
        }
      }
    }, Math.max(50, Math.floor(keepaliveIntervalMs / 3)));
  }

  /** The `response.create` body from a frame; `response.append` extends the last request. */
  #requestFrom(socket: WebSocket, message: string | ArrayBuffer, attachment: SocketAttachment): Record<string, unknown> {
    let frame: unknown;
    try {
      frame = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      throw new GatewayError("invalid_request", "WebSocket messages must be JSON objects.");
    }
    if (!isRecord(frame)) throw new GatewayError("invalid_request", "WebSocket messages must be JSON objects.");
    assertJsonDepth(frame);
    const { type, ...body } = frame;
    if (type === "response.create") return body;
    if (type === "response.append") {
      const previous = this.#lastRequest.get(socket);
      const lastResponseId = this.object.session.lastResponseIdOf(attachment.chainId);
      if (!previous || !lastResponseId) {
        throw new GatewayError("invalid_request", "response.append needs a completed response earlier on this socket.", { param: "type" });
      }
      const { input: _previousInput, generate: _generate, ...fields } = previous;
      return { ...fields, previous_response_id: lastResponseId, input: Array.isArray(body.input) ? body.input : [] };
    }
    // Named only when it is text: String() of an object without a callable toString throws.
    const named = typeof type === "string" ? ` '${type.slice(0, 60)}'` : "";
    throw new GatewayError("invalid_request", `Unsupported message type${named}; send 'response.create'.`, { param: "type" });
  }
}

function sendErrorFrame(socket: WebSocket, error: GatewayError): void {
  const body = openAiErrorBody(error);
  // Like the provider's frames, the headers a client acts on travel in the frame (Retry-After).
  const retryAfter = error.headers.get("retry-after");
  try {
    socket.send(JSON.stringify({ type: "error", status: error.status, error: body.error, ...(retryAfter ? { headers: { "retry-after": retryAfter } } : {}) }));
  } catch {
    // The client is gone.
  }
}
