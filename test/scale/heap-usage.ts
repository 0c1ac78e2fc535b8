// The Worker isolate's JavaScript heap, read over workerd's inspector (Chrome DevTools protocol,
// `Runtime.getHeapUsage`): the Worker and every Durable Object of it share one isolate, so this
// is the heap all sessions live in. Without a collection first it counts garbage not yet
// collected. workerd's inspector does not answer `HeapProfiler.collectGarbage`, but a heap
// snapshot collects everything first: `collectGarbage` takes one and drops it (~10 s per 40 MB
// of heap here), so that the figure after it is what is live.
import WebSocket from "ws";

export interface HeapUsage {
  usedBytes: number;
  totalBytes: number;
}

export async function readHeapUsage(inspectorUrl: string, options: { collectGarbage?: boolean } = {}): Promise<HeapUsage> {
  const targets = (await (await fetch(new URL("/json", inspectorUrl.replace(/^ws/, "http")))).json()) as { id: string; webSocketDebuggerUrl: string }[];
  // The user's Worker is `core:user:<name>`; the others are Miniflare's own.
  const target = targets.find((candidate) => candidate.id.startsWith("core:user:"));
  if (!target) throw new Error(`no user Worker among the inspector's targets: ${targets.map((candidate) => candidate.id).join(", ")}`);
  const inspector = await InspectorSession.open(target.webSocketDebuggerUrl);
  try {
    if (options.collectGarbage) {
      await inspector.call("HeapProfiler.enable", {}, 10_000);
      // The snapshot's chunks arrive as notifications and are dropped as they come.
      await inspector.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, 600_000);
    }
    const usage = (await inspector.call("Runtime.getHeapUsage", {}, 10_000)) as { usedSize: number; totalSize: number };
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
  } finally {
    inspector.close();
  }
}

class InspectorSession {
  #nextId = 0;
  readonly #pending = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      this.#pending.get(message.id)?.(message);
      this.#pending.delete(message.id);
    });
  }

  static async open(url: string): Promise<InspectorSession> {
    // Snapshot chunks are many and large: no per-message limit.
    const socket = new WebSocket(url, { maxPayload: 0, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return new InspectorSession(socket);
  }

  call(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`the inspector did not answer ${method} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(id, (message) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
