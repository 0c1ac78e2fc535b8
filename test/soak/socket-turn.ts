// A Responses WebSocket client for the soak: every frame is kept as it arrived (text or binary,
// JSON or not), turns end at their terminal or error frame, and frames that arrive between
// turns are kept aside, so that a second terminal or a late event is seen and counted.
import WebSocket from "ws";
import type { ClientAbort } from "./http-turn";

export interface Frame {
  text: string;
  binary: boolean;
  /** The parsed JSON object, when the frame is one. */
  json: Record<string, unknown> | undefined;
  type: string | undefined;
}

export interface SocketObservation {
  transport: "websocket";
  frames: Frame[];
  endedBy: "terminal" | "deadline" | "client-left" | "closed";
  closeCode?: number;
  /** When the client left on purpose. */
  leftAt?: number;
  durationMs: number;
}

const endingTypes = new Set(["response.completed", "response.failed", "response.incomplete", "error"]);
const keepaliveType = "turnpike:keepalive";

export class SoakSocket {
  readonly #socket: WebSocket;
  #current: { frames: Frame[]; done(endedBy: SocketObservation["endedBy"]): void; abortAfter?: number } | undefined;
  /** Frames that arrived while no turn was waiting: after a terminal, or before the first turn. */
  #stray: Frame[] = [];
  #closed: number | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data, isBinary) => this.#onFrame(frameOf(data, isBinary)));
    socket.on("close", (code) => {
      this.#closed = code;
      this.#current?.done("closed");
    });
    socket.on("error", () => {});
  }

  /** Opens the socket; resolves with the refusal (status or error text) when it does not open. */
  static async connect(url: string, headers: Record<string, string>, timeoutMs: number): Promise<SoakSocket | { refused: string }> {
    const socket = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    return new Promise((resolve) => {
      socket.once("open", () => resolve(new SoakSocket(socket)));
      socket.once("unexpected-response", (_request, response) => {
        resolve({ refused: `HTTP ${response.statusCode}` });
        response.resume();
        socket.terminate();
      });
      socket.once("error", (error) => resolve({ refused: error.message }));
    });
  }

  get isOpen(): boolean {
    return this.#closed === undefined && this.#socket.readyState === WebSocket.OPEN;
  }

  /** Frames received since the last turn ended (none expected: they are its extras). */
  takeStray(): Frame[] {
    const frames = this.#stray.filter((frame) => frame.type !== keepaliveType);
    this.#stray = [];
    return frames;
  }

  /** Sends one frame and collects the turn's frames until its terminal (or error) frame. */
  turn(frame: Record<string, unknown>, options: { deadlineMs: number; abort?: ClientAbort | undefined }): Promise<SocketObservation> {
    const started = Date.now();
    const frames: Frame[] = [];
    return new Promise((resolve) => {
      let leaveTimer: ReturnType<typeof setTimeout> | undefined;
      const deadline = setTimeout(() => finish("deadline"), options.deadlineMs);
      const finish = (endedBy: SocketObservation["endedBy"]) => {
        if (this.#current?.frames !== frames) return;
        this.#current = undefined;
        clearTimeout(deadline);
        if (leaveTimer) clearTimeout(leaveTimer);
        // A client that leaves, or gives up, drops the socket (Codex: no close frame).
        if (endedBy === "client-left" || endedBy === "deadline") this.#socket.terminate();
        resolve({
          transport: "websocket", frames, endedBy, durationMs: Date.now() - started,
          ...(this.#closed !== undefined ? { closeCode: this.#closed } : {}),
          ...(endedBy === "client-left" ? { leftAt: Date.now() } : {}),
        });
      };
      const abort = options.abort;
      this.#current = { frames, done: finish, ...(abort && "afterEvents" in abort ? { abortAfter: abort.afterEvents } : {}) };
      if (abort && "afterMs" in abort) leaveTimer = setTimeout(() => finish("client-left"), abort.afterMs);
      if (!this.isOpen) return finish("closed");
      this.#socket.send(JSON.stringify(frame));
    });
  }

  close(): void {
    if (this.#closed === undefined) this.#socket.close(1000);
  }

  terminate(): void {
    this.#socket.terminate();
  }

  #onFrame(frame: Frame): void {
    const current = this.#current;
    if (!current) {
      this.#stray.push(frame);
      return;
    }
    if (frame.type === keepaliveType) return;
    current.frames.push(frame);
    if (frame.type !== undefined && endingTypes.has(frame.type)) current.done("terminal");
    else if (current.abortAfter !== undefined && current.frames.length >= current.abortAfter) current.done("client-left");
  }
}

function frameOf(data: WebSocket.RawData, binary: boolean): Frame {
  const text = Buffer.isBuffer(data) ? data.toString("utf8") : Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data).toString("utf8");
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { text, binary, json, type: typeof json?.type === "string" ? json.type : undefined };
}
