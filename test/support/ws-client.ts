// A Responses WebSocket client for tests: sends frames, collects events per response.
import WebSocket from "ws";

export interface ResponsesSocketClient {
  socket: WebSocket;
  /** The headers of the server's 101 answer. */
  upgradeHeaders: Record<string, string | string[] | undefined>;
  /** Sends a frame and collects events until a terminal event or an error frame. */
  create(body: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  send(frame: unknown): void;
  next(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function connectResponsesSocket(url: string, headers: Record<string, string>): Promise<ResponsesSocketClient> {
  const socket = new WebSocket(url, { headers });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((frame: Record<string, unknown>) => void)[] = [];
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  let upgradeHeaders: Record<string, string | string[] | undefined> = {};
  socket.once("upgrade", (response) => (upgradeHeaders = response.headers));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const queued = queue.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => reject(new Error("no frame within 10 s")), 10_000);
      waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  return {
    socket,
    upgradeHeaders,
    next,
    send: (frame) => socket.send(JSON.stringify(frame)),
    async create(body) {
      socket.send(JSON.stringify({ ...body, type: body.type ?? "response.create" }));
      const events: Record<string, unknown>[] = [];
      for (;;) {
        const frame = await next();
        events.push(frame);
        if (["response.completed", "response.failed", "response.incomplete", "error"].includes(String(frame.type))) return events;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once("close", () => resolve());
        socket.close(1000);
      }),
  };
}
