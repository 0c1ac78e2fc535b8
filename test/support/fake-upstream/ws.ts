// WebSocket side: the Responses API "WebSocket mode" on {prefix}/responses (protocol.md §2).
import { STATUS_CODES } from "node:http";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";
import { bearerAccepted } from "./oauth.js";
import { applyFault } from "./faults.js";
import type { InjectedTurn, UpgradeRefusal } from "./faults.js";
import { apiError, buildPlan, httpFailure, normalizeInput, resolveScenario, wsErrorFrame, wsRequestError } from "./scenarios.js";
import { runPlan } from "./stream.js";
import type { Sink } from "./stream.js";
import { flatHeaders, parseBody, pathOf, takeScenario } from "./state.js";
import type { RecordedRequest, State } from "./state.js";

interface Conn {
  id: number;
  ws: WebSocket;
  path: string;
  headers: Record<string, string>;
  openedAt: number;
  /** The one previous-response state kept per connection. */
  latest: { id: string; items: any[]; chars: number } | null;
  inflight: { rec: RecordedRequest; ac: AbortController } | null;
  /** The server closed or killed the socket itself (not a client disconnect). */
  serverClosed: boolean;
  /** Events of an earlier response, sent just before the next one, and its pace (faults.ts). */
  leftover: { events: any[]; nextDelayMs: number; owner: InjectedTurn | undefined } | null;
}

const TERMINAL = new Set(["response.completed", "response.failed", "response.incomplete", "error"]);

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function createWsHandler(st: State) {
  const wss = new WebSocketServer({ noServer: true });
  /** Upgrades left unanswered (`upgradeStatus: "hang"`), destroyed on close. */
  const hanging = new Set<Duplex>();
  // Like older ChatGPT backends: a sticky-routing turn state on the upgrade response itself.
  const upgradeIds = new WeakMap<IncomingMessage, number>();
  wss.on("headers", (headers, req) => headers.push(`x-codex-turn-state: ts-ws-${upgradeIds.get(req) ?? 0}`));
  const conns = new Set<Conn>();
  let nextId = 0;

  function reject(socket: Duplex, status: number, custom?: UpgradeRefusal): void {
    const body = custom?.body ?? JSON.stringify(status === 401 ? { detail: "Unauthorized" }
      : apiError(status === 404 ? "Not found" : "WebSocket upgrade rejected", "invalid_request_error", null));
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\nContent-Type: ${custom?.contentType ?? "application/json"}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    if (!custom?.stallBody) return void socket.end(`${head}${body}`);
    socket.write(`${head}${body.slice(0, Math.floor(body.length / 2))}`);
    hanging.add(socket);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {});
    const id = ++nextId;
    const path = pathOf(req.url);
    const headers = flatHeaders(req.headers);
    st.requests.push({ method: req.method ?? "GET", path, headers, body: null, bytes: 0, transport: "websocket", connectionId: id });
    const status = path !== `${st.prefix}/responses` ? 404 : bearerAccepted(st.auth, headers) ? st.upgradeStatus : 401;
    if (status === "hang") {
      hanging.add(socket);
      return;
    }
    if (status) return reject(socket, status);
    const refusal = st.injector?.forUpgrade?.(headers);
    if (refusal) return reject(socket, refusal.status, refusal);
    upgradeIds.set(req, id);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Conn = { id, ws, path, headers, openedAt: Date.now(), latest: null, inflight: null, serverClosed: false, leftover: null };
      conns.add(conn);
      ws.on("message", (data) => onMessage(conn, toBuffer(data)));
      ws.on("error", () => {});
      ws.on("close", () => {
        conns.delete(conn);
        if (!conn.inflight) return;
        if (!conn.serverClosed) conn.inflight.rec.clientAborted = true;
        conn.inflight.ac.abort();
      });
    });
  }

  function onMessage(conn: Conn, buf: Buffer): void {
    const { ws } = conn;
    const body = parseBody(buf);
    const rec: RecordedRequest = {
      method: "WS", path: conn.path, headers: conn.headers, body, bytes: buf.length, transport: "websocket", connectionId: conn.id,
    };
    st.requests.push(rec);
    const send = (frame: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    };

    if (Date.now() - conn.openedAt >= st.connectionLimitMs) {
      const minutes = Math.round(st.connectionLimitMs / 60000);
      send(wsRequestError("websocket_connection_limit_reached",
        `Responses websocket connection limit reached (${minutes} minutes). Create a new websocket connection to continue.`));
      conn.serverClosed = true;
      ws.close(1000, "connection limit reached");
      return;
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return send(wsRequestError("invalid_json", "Message must be a JSON object."));
    }
    if (body.type !== "response.create") {
      return send(wsRequestError("unknown_event_type", `Unsupported event type '${String(body.type)}'.`, "type"));
    }
    const leftover = conn.leftover;
    if (leftover) {
      for (const event of leftover.events) send(event);
      conn.leftover = null;
      if (leftover.owner) st.injector?.onLeftoverSent?.(leftover.owner, { transport: "websocket", body, headers: conn.headers });
    }
    if (conn.inflight) {
      st.injector?.onRefused?.({ transport: "websocket", body, headers: conn.headers }, "response_already_in_progress");
      return send(wsRequestError("response_already_in_progress",
        "Another response is already in progress on this connection. Wait for it to finish before sending response.create."));
    }
    const injected = st.injector?.forRequest({ transport: "websocket", body, headers: conn.headers });
    const sc = injected ? resolveScenario(injected.reply === "function_call" ? "function-call" : "ok") : takeScenario(st, body.model);
    if (!sc) return send(wsRequestError("model_not_found", `The model '${body.model}' does not exist.`, "model"));
    rec.scenario = sc.name;
    const fault = injected?.fault;
    const fail = fault?.type === "status" ? { status: fault.status, body: JSON.parse(fault.body), headers: {} } : httpFailure(sc.name);
    if (fail) {
      conn.latest = null; // a failed continuation evicts the cached id
      return send(wsErrorFrame(fail.status, fail.body, fail.headers));
    }
    const prevId = body.previous_response_id;
    if ((prevId != null && prevId !== conn.latest?.id) || fault?.type === "previous-not-found") {
      conn.latest = null;
      if (fault?.type !== "previous-not-found") st.injector?.onRefused?.({ transport: "websocket", body, headers: conn.headers }, "previous_response_not_found");
      return send(wsRequestError("previous_response_not_found",
        `Previous response with id '${String(prevId)}' not found.`, "previous_response_id"));
    }

    const delta = normalizeInput(body.input);
    const previous = prevId != null && conn.latest ? conn.latest : null;
    const input = [...(previous ? previous.items : []), ...delta];
    const inputChars = (previous ? previous.chars : 0) + JSON.stringify(delta).length;
    const n = ++st.n;
    const built = buildPlan(sc, {
      n, model: String(body.model ?? ""), body, input, inputChars, generate: body.generate !== false, extras: st.extras, replyTag: injected?.tag,
    });
    const delayMs = leftover?.nextDelayMs || injected?.paceMs || built.delayMs;
    const plan = applyFault({ ...built, delayMs }, fault, "websocket");
    const ac = new AbortController();
    st.active.add(ac);
    conn.inflight = { rec, ac };
    let settled = false;
    // Commit the connection state before the terminal event goes out, so the client may chain at once.
    const settle = (completed: boolean) => {
      if (settled) return;
      settled = true;
      if (conn.inflight?.ac === ac) conn.inflight = null;
      conn.latest = completed ? { id: `resp_fake_${n}`, items: [...input, ...plan.output], chars: inputChars + JSON.stringify(plan.output).length } : null;
    };
    const sink: Sink = {
      send: (ev) => {
        if (TERMINAL.has(ev.type)) settle(ev.type === "response.completed");
        return new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(ev), () => resolve());
          else resolve();
        });
      },
      raw: (text, binary) => new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(binary ? Buffer.from(text, "latin1") : text, () => resolve());
        else resolve();
      }),
      finish: (ending) => {
        if (ending === "end") return;
        conn.serverClosed = true;
        if (ending === "destroy") ws.terminate();
        else ws.close(1000, "stream closed before completion");
      },
    };
    void runPlan(plan, sink, ac.signal).then((finished) => {
      if (!finished && injected) st.injector?.onAbandoned?.(injected);
      st.active.delete(ac);
      settle(false);
      if (plan.leftover) conn.leftover = { ...plan.leftover, owner: injected };
    });
  }

  function drop(): void {
    for (const c of conns) {
      c.serverClosed = true;
      c.ws.terminate();
    }
    conns.clear();
  }

  /** Like a provider that lost its in-memory state: the next chained create is not found. */
  function forget(): void {
    for (const c of conns) c.latest = null;
  }

  return {
    onUpgrade,
    drop,
    forget,
    count: () => conns.size,
    close: () => {
      drop();
      for (const socket of hanging) socket.destroy();
      wss.close();
    },
  };
}
