/**
 * One upstream Responses WebSocket ("WebSocket mode", docs/protocol.md §2): `response.create`
 * frames out, the same event objects back as JSON text frames, one response at a time, and the
 * provider's one previous-response state bound to this connection.
 *
 * The session Durable Object owns it; this file only frames messages and turns the socket's
 * life (messages, error frames, close) into one event stream per response.
 */
import { GatewayError } from "../errors/gateway-error";
import { eventFromData, isEventText, redactedEvent, responseIdOf, terminalEventTypes, type ResponsesEvent } from "../streams/responses-event";
import type { EventBatch, EventReader } from "../streams/event-reader";
import { failureEventTypes } from "../shared/redact";
import { errorFromUpstreamResponse } from "./upstream-error";

/** What the session needs from an upstream connection, real or mock. */
export interface ResponsesSocket {
  readonly openedAt: number;
  readonly isOpen: boolean;
  /** Headers of the upgrade response (e.g. `x-codex-turn-state` on older backends). */
  readonly upgradeHeaders: Headers;
  /** Sends `response.create`; the stream ends after this response's terminal or error frame. */
  create(request: Record<string, unknown>): EventReader;
  close(code?: number, reason?: string): void;
}

export interface SocketTarget {
  /** `{UPSTREAM_URL}/responses`, http(s) — the runtime upgrades it. */
  url: string;
  headers: Headers;
  secrets: readonly string[];
  /** How long the upgrade may go unanswered (the stream idle limit, as for HTTP headers). */
  timeoutMs: number;
}

/** Opens the socket; an upgrade the provider refuses becomes that HTTP error (status kept). */
export async function openResponsesSocket(target: SocketTarget): Promise<ResponsesSocket> {
  const headers = new Headers(target.headers);
  headers.set("upgrade", "websocket");
  let response: Response;
  // Aborted only while the upgrade is unanswered: the signal stays bound to the socket after it
  // opens, so a timer that fired later would close a working connection.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("upgrade timeout")), target.timeoutMs);
  try {
    response = await fetch(target.url, { headers, signal: abort.signal });
  } catch (cause) {
    if (abort.signal.aborted) {
      const seconds = Math.round(target.timeoutMs / 1000);
      throw new GatewayError("upstream_idle_timeout", `The upstream did not answer the WebSocket upgrade within ${seconds} s.`, { cause });
    }
    throw new GatewayError("upstream_unreachable", "The gateway could not open a WebSocket to the upstream.", { cause });
  } finally {
    clearTimeout(timer);
  }
  const socket = response.webSocket;
  if (response.status !== 101 || !socket) {
    throw await errorFromUpstreamResponse(response, target.secrets);
  }
  socket.accept();
  return new NativeResponsesSocket(socket, response.headers, target.secrets);
}

/** Events about the connection, not about a response: they may come before a response starts. */
const connectionEventTypes: ReadonlySet<string> = new Set(["response.metadata", "codex.rate_limits"]);

/** How many finished response ids a socket remembers, to drop their late frames. */
const rememberedResponses = 8;

interface CurrentResponse {
  controller: ReadableStreamDefaultController<EventBatch>;
  /** The id from this response's `response.created`; undefined until it came. */
  id?: string;
}

class NativeResponsesSocket implements ResponsesSocket {
  readonly openedAt = Date.now();
  #open = true;
  #current: CurrentResponse | undefined;
  /** Responses this socket finished: their late or repeated frames belong to no turn. */
  readonly #finished: string[] = [];

  constructor(
    private readonly socket: WebSocket,
    readonly upgradeHeaders: Headers,
    private readonly secrets: readonly string[],
  ) {
    socket.addEventListener("message", (message) => this.#onMessage(message.data));
    socket.addEventListener("close", (event) => this.#onGone(`closed (${event.code}${event.reason ? `: ${event.reason}` : ""})`));
    socket.addEventListener("error", () => this.#onGone("failed"));
  }

  get isOpen(): boolean {
    return this.#open;
  }

  create(request: Record<string, unknown>): EventReader {
    if (!this.#open) throw new GatewayError("upstream_disconnected", "The upstream WebSocket is closed.");
    if (this.#current) throw new GatewayError("conflict", "A response is already in flight on this upstream connection.");
    const stream = new ReadableStream<EventBatch>({
      start: (controller) => {
        this.#current = { controller };
      },
      cancel: () => {
        // The client is gone mid-response: the provider would keep streaming into this socket
        // and the next turn would read the tail of this one, so the socket goes too.
        this.#current = undefined;
        this.close(1000, "response cancelled");
      },
    });
    this.socket.send(JSON.stringify({ ...request, type: "response.create" }));
    // Frames arrive whether or not anyone reads: the stream is their queue.
    return stream.getReader();
  }

  close(code = 1000, reason = "closing"): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closing.
    }
    this.#onGone("closed by the gateway");
  }

  #onMessage(data: unknown): void {
    const current = this.#current;
    // Nothing asked for (a late frame of a finished response), or no event at all: dropped.
    if (!current || typeof data !== "string" || !isEventText(data)) return;
    // The type comes from the JSON (frames have no `event:` line).
    const read = eventFromData(data, "unknown");
    if (!this.#belongsTo(current, read)) return;
    const event = failureEventTypes.has(read.type) ? redactedEvent(read, this.secrets) : read;
    current.controller.enqueue([event]);
    if (terminalEventTypes.has(event.type) || event.type === "error") {
      this.#current = undefined;
      if (current.id !== undefined) this.#finished.push(current.id);
      if (this.#finished.length > rememberedResponses) this.#finished.shift();
      current.controller.close();
    }
  }

  /**
   * Whether an event is the current response's. Events are matched by response id, not taken
   * for whatever turn waits: a leftover of an earlier response (a repeated terminal, a frame
   * after the terminal) would end the wrong turn with a foreign terminal event. Before the
   * response's `response.created`, only an `error` (the answer to this create) and connection
   * events pass; after it, an event naming another response is dropped.
   */
  #belongsTo(current: CurrentResponse, event: ResponsesEvent): boolean {
    if (event.type === "error") return true;
    const id = responseIdOf(event);
    if (current.id === undefined) {
      if (event.type !== "response.created") return connectionEventTypes.has(event.type);
      if (id === undefined || this.#finished.includes(id)) return false;
      current.id = id;
      return true;
    }
    return id === undefined || id === current.id;
  }

  #onGone(how: string): void {
    this.#open = false;
    const current = this.#current;
    this.#current = undefined;
    current?.controller.error(new GatewayError("upstream_disconnected", `The upstream WebSocket ${how} before the response completed.`));
  }
}
