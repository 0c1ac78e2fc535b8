// Drives the run's sessions against a gateway: HTTP and WebSocket sessions interleaved, all
// started at once, spread over `rampMs`, or `concurrency` at a time (a pool: a session starts
// when another has ended).
import { randomBytes } from "node:crypto";
import type { Dispatcher } from "undici";
import { HttpConversation, SocketConversation, type CodexCaptures } from "./codex-conversation";
import { runHttpSession } from "./http-session";
import { runSocketSession, type SocketSession } from "./socket-session";
import type { TurnRecord } from "./turn-record";

export interface DriveOptions {
  sessions: number;
  websockets: number;
  turns: number;
  /** The client's pause before each turn after the first (a person reading, a tool running). */
  thinkMs: number;
  /** HTTP turns on pooled keep-alive connections instead of a new connection each. */
  keepAlive: boolean;
  rampMs: number;
  /** Sessions at a time; 0: all of them. */
  concurrency: number;
  deadlineMs: number;
}

export interface Driven {
  records: TurnRecord[];
  /** The client sockets, left open and idle. */
  sockets: SocketSession[];
  /** From the first turn sent to the last turn ended. */
  elapsedMs: number;
}

export async function driveSessions(
  gatewayUrl: string,
  gatewayKey: string,
  captures: CodexCaptures,
  dispatcher: Dispatcher,
  options: DriveOptions,
  progress: (records: TurnRecord[]) => void,
): Promise<Driven> {
  const sessionCount = options.sessions + options.websockets;
  const run = randomBytes(4).toString("hex");
  const records: TurnRecord[] = [];
  const sockets: SocketSession[] = [];
  const httpUrl = `${gatewayUrl}/v1/responses`;
  const socketUrl = `${gatewayUrl.replace(/^http/, "ws")}/v1/responses`;
  const runSession = async (index: number) => {
    // Spread evenly, so that a ramp or a pool meets both kinds alike.
    const isSocket = Math.floor(((index + 1) * options.websockets) / sessionCount) > Math.floor((index * options.websockets) / sessionCount);
    const sessionId = `${run}-0000-4000-8000-${index.toString().padStart(12, "0")}`;
    if (isSocket) {
      const conversation = new SocketConversation(`ws-${index}`, sessionId, captures, gatewayKey);
      const session = await runSocketSession(conversation, { url: socketUrl, turns: options.turns, thinkMs: options.thinkMs, deadlineMs: options.deadlineMs });
      sockets.push(session);
      records.push(...session.records);
      return;
    }
    const conversation = new HttpConversation(`http-${index}`, sessionId, captures, gatewayKey);
    records.push(...(await runHttpSession(conversation, { url: httpUrl, dispatcher, turns: options.turns, thinkMs: options.thinkMs, keepAlive: options.keepAlive, deadlineMs: options.deadlineMs })));
  };
  const ticker = setInterval(() => progress(records), 5_000);
  const startedAt = performance.now();
  try {
    if (options.concurrency > 0 && options.concurrency < sessionCount) {
      let next = 0;
      const worker = async () => {
        while (next < sessionCount) await runSession(next++);
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
    } else {
      await Promise.all(
        Array.from({ length: sessionCount }, async (_, index) => {
          const delayMs = (options.rampMs * index) / sessionCount;
          if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          await runSession(index);
        }),
      );
    }
  } finally {
    clearInterval(ticker);
  }
  const elapsedMs = Math.max(...records.map((record) => record.startedAt + record.durationMs)) - startedAt;
  return { records, sockets, elapsedMs };
}
