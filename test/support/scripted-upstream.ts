// A Responses WebSocket upstream whose every answer the test writes: for misbehaviour the fake
// upstream's scenarios do not cover (frames of an earlier response, a refused upgrade whose body
// never ends, in-flight errors). Node's http + ws on 127.0.0.1.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";

export interface ScriptedConnection {
  id: number;
  /** Sends one frame (an event object) to the gateway. */
  send(frame: Record<string, unknown>): void;
  close(): void;
}

export interface ScriptedUpstreamOptions {
  /** Answers the upgrade itself (write to the raw socket); return true if it did. */
  onUpgrade?(request: IncomingMessage, socket: Duplex): boolean;
  /** Each `response.create` the gateway sends, with the connection it came on. */
  onCreate(create: Record<string, unknown>, connection: ScriptedConnection): void;
}

export interface ScriptedUpstream {
  url: string;
  creates: { connection: number; body: Record<string, unknown> }[];
  upgrades: number;
  openConnections(): number;
  close(): Promise<void>;
}

export async function startScriptedUpstream(options: ScriptedUpstreamOptions): Promise<ScriptedUpstream> {
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  const raw = new Set<Duplex>();
  const creates: ScriptedUpstream["creates"] = [];
  let connections = 0;
  let upgrades = 0;
  const server = createServer((_request, response) => {
    response.writeHead(404).end();
  });
  server.on("upgrade", (request, socket, head) => {
    upgrades += 1;
    raw.add(socket);
    socket.on("error", () => {});
    if (options.onUpgrade?.(request, socket)) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      const id = ++connections;
      sockets.add(ws);
      ws.on("close", () => sockets.delete(ws));
      ws.on("error", () => {});
      const connection: ScriptedConnection = {
        id,
        send: (frame) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
        },
        close: () => ws.terminate(),
      };
      ws.on("message", (data) => {
        const body = JSON.parse(String(data)) as Record<string, unknown>;
        creates.push({ connection: id, body });
        options.onCreate(body, connection);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    creates,
    get upgrades() {
      return upgrades;
    },
    openConnections: () => [...sockets].filter((socket) => socket.readyState === WebSocket.OPEN).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        for (const socket of raw) socket.destroy();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A complete, minimal response's events: created, one message, completed. */
export function responseEvents(id: string, text: string): Record<string, unknown>[] {
  const item = { id: `msg_${id}`, type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] };
  const response = (status: string, output: unknown[]) => ({ id, object: "response", status, output, usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 } });
  return [
    { type: "response.created", sequence_number: 0, response: response("in_progress", []) },
    { type: "response.output_item.added", sequence_number: 1, output_index: 0, item: { ...item, status: "in_progress", content: [] } },
    { type: "response.output_text.delta", sequence_number: 2, item_id: item.id, output_index: 0, content_index: 0, delta: text },
    { type: "response.output_item.done", sequence_number: 3, output_index: 0, item },
    { type: "response.completed", sequence_number: 4, response: response("completed", [item]) },
  ];
}
