// Recorded requests, shared server state and small request helpers.
import type { IncomingHttpHeaders } from "node:http";
import type { FaultInjector } from "./faults.js";
import type { TokenAuthority } from "./oauth.js";
import { scenarioFromModel } from "./scenarios.js";
import type { ResolvedScenario } from "./scenarios.js";

export interface RecordedRequest {
  method: string;           // HTTP method; "GET" for a WebSocket upgrade; "WS" for a WebSocket message
  path: string;             // pathname, without the query string
  headers: Record<string, string>; // lower-case names; WS messages carry their connection's upgrade headers
  body: any;                // parsed JSON, raw text if not JSON, null if empty
  bytes: number;            // body size, or the WebSocket frame length
  transport: "http" | "websocket";
  /** The client went away before the server finished its answer. */
  clientAborted?: boolean;
  /** Scenario that answered this request (absent for upgrades, /models, rejected frames). */
  scenario?: string;
  /** WebSocket connection number (upgrade and messages). */
  connectionId?: number;
}

/** Shared mutable state of one fake upstream. */
export interface State {
  prefix: string;
  requests: RecordedRequest[];
  queue: ResolvedScenario[];
  n: number;                      // last response number issued
  active: Set<AbortController>;   // in-flight streams, aborted by close()
  extras: boolean;
  connectionLimitMs: number;
  /** How upgrades are answered: accepted (null), refused with a status, or never ("hang"). */
  upgradeStatus: number | "hang" | null;
  /** The fake auth service (`POST /oauth/token`) and the bearer check it feeds. */
  auth: TokenAuthority;
  /** Ids of responses created over HTTP with `store: true`, when chaining over HTTP is checked. */
  stored: Set<string> | undefined;
  /** Chooses faults per request and upgrade (the chaos soak); none: every request is answered as scripted. */
  injector?: FaultInjector | undefined;
}

/** Next scripted scenario, else the one named by the model; null for an unknown "fake:" name. */
export function takeScenario(st: State, model: unknown): ResolvedScenario | null {
  return st.queue.shift() ?? scenarioFromModel(model);
}

export function flatHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

export function pathOf(url: string | undefined): string {
  return new URL(url ?? "/", "http://fake.invalid").pathname;
}

export function parseBody(raw: Buffer): any {
  if (raw.length === 0) return null;
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

