// One Codex-like session over the Responses WebSocket mode: one client socket, T turns, each a
// `response.create` answered up to its terminal event (or an error frame). The socket is left
// open at the end, idle, so that the memory of idle sessions includes it; `close()` ends it.
import WebSocket from "ws";
import type { SocketConversation } from "./codex-conversation";
import { describe } from "./http-session";
import type { TurnRecord } from "./turn-record";

export interface SocketSessionContext {
  url: string;
  turns: number;
  thinkMs: number;
  deadlineMs: number;
}

const endingTypes = new Set(["response.completed", "response.failed", "response.incomplete", "error"]);

export interface SocketSession {
  records: TurnRecord[];
  close(): void;
}

export async function runSocketSession(conversation: SocketConversation, context: SocketSessionContext): Promise<SocketSession> {
  const records: TurnRecord[] = [];
  const startedAt = performance.now();
  const opened = await connect(context.url, conversation.headers, context.deadlineMs);
  if (typeof opened === "string") {
    records.push({ transport: "websocket", session: conversation.name, turn: 1, startedAt, durationMs: performance.now() - startedAt, error: opened });
    return { records, close() {} };
  }
  const socket = new TurnSocket(opened);
  let previousResponseId: string | undefined;
  for (let turn = 1; turn <= context.turns; turn += 1) {
    if (turn > 1 && context.thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, context.thinkMs));
    const record = await socket.turn(conversation.name, turn, conversation.frame(turn, previousResponseId), context.deadlineMs);
    records.push(record);
    if (record.error) break;
    previousResponseId = record.responseId;
  }
  return { records, close: () => opened.close(1000) };
}

/** The open socket, or why it did not open. */
function connect(url: string, headers: Record<string, string>, timeoutMs: number): Promise<WebSocket | string> {
  // No permessage-deflate: the driver's CPU is shared with the gateway on this machine.
  const openedAt = performance.now();
  const socket = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
  return new Promise((resolve) => {
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve(`upgrade refused: HTTP ${response.statusCode}: ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`));
      socket.terminate();
    });
    socket.once("error", (error) => resolve(`upgrade failed: ${describe(error)} after ${Math.round(performance.now() - openedAt)} ms`));
  });
}

class TurnSocket {
  #waiting: ((text: string | { closed: number }) => void) | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => this.#waiting?.(data.toString()));
    socket.on("close", (code) => this.#waiting?.({ closed: code }));
    socket.on("error", () => {});
  }

  turn(session: string, turn: number, frame: string, deadlineMs: number): Promise<TurnRecord> {
    const record: TurnRecord = { transport: "websocket", session, turn, startedAt: performance.now(), durationMs: 0 };
    return new Promise((resolve) => {
      const finish = (error?: string) => {
        clearTimeout(deadline);
        this.#waiting = undefined;
        if (error) record.error = error;
        record.durationMs = performance.now() - record.startedAt;
        resolve(record);
      };
      const deadline = setTimeout(() => finish(`no terminal frame within ${deadlineMs} ms`), deadlineMs);
      this.#waiting = (message) => {
        if (typeof message !== "string") return finish(`the socket closed (${message.closed}) before a terminal frame`);
        const type = frameType(message);
        if (!type || !endingTypes.has(type)) return;
        if (type === "response.completed") {
          record.responseId = (JSON.parse(message) as { response: { id: string } }).response.id;
          return finish();
        }
        finish(`${type} frame: ${message.slice(0, 300)}`);
      };
      if (this.socket.readyState !== WebSocket.OPEN) return finish("the socket closed before the turn");
      this.socket.send(frame);
    });
  }
}

/** The frame's type from its leading `{"type":"…"` (the created and completed frames echo the whole request). */
function frameType(text: string): string | undefined {
  const leading = /^\{"type":"([^"]+)"/.exec(text);
  if (leading) return leading[1];
  try {
    const parsed = JSON.parse(text) as { type?: unknown };
    return typeof parsed.type === "string" ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}
