// Fake OpenAI Responses / ChatGPT Codex backend for end-to-end tests and benchmarks.
// One Node HTTP server on 127.0.0.1 serving HTTP (SSE + JSON) and the Responses WebSocket mode.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { handleHttp } from "./http.js";
import { createWsHandler } from "./ws.js";
import { resolveScenario } from "./scenarios.js";
import type { Scenario } from "./scenarios.js";
import type { RecordedRequest, State } from "./state.js";
export type { RecordedRequest } from "./state.js";

export interface FakeUpstreamOptions {
  port?: number;
  pathPrefix?: string;        // default "/v1"
  connectionLimitMs?: number; // WebSocket connection age limit, default 60 min
  /** Prepend a Codex-style `response.metadata` event (x-codex-turn-state) to every stream. */
  codexExtras?: boolean;
  /** Answer WebSocket upgrades with this HTTP status instead of accepting them (e.g. 426). */
  upgradeStatus?: number | null;
}

export interface FakeUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  script(...steps: Scenario[]): void;
  reset(): void;
  close(): Promise<void>;
  /** Terminate every upstream WebSocket abruptly (no close frame). */
  dropConnections(): void;
  /** Forget every connection's previous response (the next chained create gets previous_response_not_found). */
  forgetPreviousResponses(): void;
  connectionCount(): number;
  /** Change how WebSocket upgrades are answered (null: accept). */
  setUpgradeStatus(status: number | null): void;
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const st: State = {
    prefix: (options.pathPrefix ?? "/v1").replace(/\/+$/, ""),
    requests: [],
    queue: [],
    n: 0,
    active: new Set(),
    extras: options.codexExtras ?? false,
    connectionLimitMs: options.connectionLimitMs ?? 60 * 60 * 1000,
    upgradeStatus: options.upgradeStatus ?? null,
  };
  const server = createServer((req, res) => {
    handleHttp(st, req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`fake upstream crashed: ${String(err)}`);
    });
  });
  const ws = createWsHandler(st);
  server.on("upgrade", ws.onUpgrade);
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;

  return {
    url: `http://127.0.0.1:${port}${st.prefix}`,
    port,
    requests: st.requests,
    script: (...steps) => {
      st.queue.push(...steps.map(resolveScenario));
    },
    reset: () => {
      st.requests.length = 0;
      st.queue.length = 0;
    },
    dropConnections: () => ws.drop(),
    forgetPreviousResponses: () => ws.forget(),
    connectionCount: () => ws.count(),
    setUpgradeStatus: (status) => {
      st.upgradeStatus = status;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const ac of st.active) ac.abort();
        st.active.clear();
        ws.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
