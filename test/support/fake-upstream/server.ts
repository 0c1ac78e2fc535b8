// Fake OpenAI Responses / ChatGPT Codex backend for end-to-end tests and benchmarks.
// One Node HTTP server on 127.0.0.1 serving HTTP (SSE + JSON) and the Responses WebSocket mode.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { handleHttp } from "./http.js";
import { createTokenAuthority, resetTokenAuthority, revokeAccessTokens } from "./oauth.js";
import type { TokenFailure } from "./oauth.js";
import { createWsHandler } from "./ws.js";
import { resolveScenario } from "./scenarios.js";
import type { Scenario } from "./scenarios.js";
import type { FaultInjector } from "./faults.js";
import type { RecordedRequest, State } from "./state.js";
export type { RecordedRequest } from "./state.js";
export type { TokenFailure } from "./oauth.js";
export type { ExtraEvent, FaultInjector, InjectedTurn, StreamFault, UpgradeRefusal, UpstreamRequest } from "./faults.js";
export { fakeAccessToken, fakeChatGptSeed, fakeIdToken, fakeRefreshToken } from "./tokens.js";

export interface FakeUpstreamOptions {
  port?: number;
  pathPrefix?: string;        // default "/v1"
  connectionLimitMs?: number; // WebSocket connection age limit, default 60 min
  /** Prepend a Codex-style `response.metadata` event (x-codex-turn-state) to every stream. */
  codexExtras?: boolean;
  /** Answer WebSocket upgrades with this HTTP status instead of accepting them (e.g. 426). */
  upgradeStatus?: number | "hang" | null;
  /** Lifetime of access tokens issued by `POST /oauth/token` (its JWT `exp`), default 3600. */
  tokenLifetimeSeconds?: number;
  /** Delay before `POST /oauth/token` answers, so that racing refreshes overlap. */
  tokenRefreshDelayMs?: number;
  /**
   * Requests to /responses that carry `chatgpt-account-id` must present that account's latest
   * access token issued here (before the first refresh: any unexpired token for the account),
   * else 401 `{"detail":"Unauthorized"}` (HTTP and WebSocket upgrade).
   */
  requireIssuedTokens?: boolean;
  /** Faults per request (reply kind, tag, fault) and per WebSocket upgrade, for the chaos soak. */
  faults?: FaultInjector;
  /**
   * HTTP `previous_response_id` as the provider treats it: only a response created with
   * `store: true` can be chained from, any other id is `previous_response_not_found`.
   * Off by default: other tests send ids the fake never issued.
   */
  storedResponsesOnly?: boolean;
  /**
   * The listening socket's queue of connections not yet accepted (Node's default 511, capped by
   * the kernel's somaxconn): a gateway that opens a thousand upstream sockets at once needs more.
   */
  backlog?: number;
}

export interface FakeUpstream {
  url: string;
  /** The fake auth service's refresh endpoint, `http://127.0.0.1:<port>/oauth/token`. */
  tokenUrl: string;
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
  /** Change how WebSocket upgrades are answered (null: accept; "hang": never answer). */
  setUpgradeStatus(status: number | "hang" | null): void;
  /** `POST /oauth/token` calls so far (answered or not). */
  tokenRefreshCount(): number;
  /** Make every refresh fail with this error until called with null (or reset()). */
  failTokenRefresh(failure: TokenFailure | null): void;
  /** Issued and seed access tokens stop working; only tokens issued from now on are accepted. */
  revokeAccessTokens(): void;
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
    stored: options.storedResponsesOnly ? new Set() : undefined,
    auth: createTokenAuthority(options),
    injector: options.faults,
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
    server.listen(options.port ?? 0, "127.0.0.1", options.backlog ?? 511, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;

  return {
    url: `http://127.0.0.1:${port}${st.prefix}`,
    tokenUrl: `http://127.0.0.1:${port}/oauth/token`,
    port,
    requests: st.requests,
    script: (...steps) => {
      st.queue.push(...steps.map(resolveScenario));
    },
    reset: () => {
      st.requests.length = 0;
      st.queue.length = 0;
      resetTokenAuthority(st.auth);
    },
    dropConnections: () => ws.drop(),
    forgetPreviousResponses: () => ws.forget(),
    connectionCount: () => ws.count(),
    setUpgradeStatus: (status) => {
      st.upgradeStatus = status;
    },
    tokenRefreshCount: () => st.auth.refreshCount,
    failTokenRefresh: (failure) => {
      st.auth.failure = failure;
    },
    revokeAccessTokens: () => revokeAccessTokens(st.auth),
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
