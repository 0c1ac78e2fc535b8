/**
 * Who is calling, and what their request cost: the caller a gateway key stands for, admitted by
 * its gate (revocation, limits), held to its models, and accounted for when its request ends —
 * one usage row, and its tokens and stream place given back to the gate.
 */
import { matchesPattern } from "../accounts/accounts-configuration";
import { GatewayError } from "../errors/gateway-error";
import type { LogLine, RequestLog } from "../middleware/request-log";
import { gateFor, sha256Hex, type KeyServices } from "./gateway-keys";
import type { AdmissionKind } from "./key-limits";
import { costMicroUsd, type ModelPrice } from "./prices";
import { usageRecorder, type UsageRow } from "./usage-recorder";

export interface Caller {
  /** `key_…` for a key in D1, `static:…` for one of GATEWAY_KEYS, `open` without a key. */
  keyId: string;
  /** What sessions are scoped by (their object names): each key has sessions of its own. */
  sessionScope: string;
  name: string;
  /** Model patterns the caller may use; null: every model. */
  models: string[] | null;
  /** The key's gate (its SHA-256), for a key in D1. */
  gate?: string | undefined;
  /** Its stream place, given back when the request ends. */
  lease?: string | undefined;
}

export function teamServices(environment: Record<string, unknown> | undefined): KeyServices | undefined {
  const db = environment?.DB as D1Database | undefined;
  const gates = environment?.KEY_GATES as KeyServices["gates"] | undefined;
  if (!db || typeof db.prepare !== "function" || !gates || typeof gates.idFromName !== "function") return undefined;
  return { db, gates };
}

/** A key refused by its gate: the error for the client, and whose key it was (its usage row names it). */
export class RefusedKey extends Error {
  constructor(
    readonly error: GatewayError,
    readonly keyId: string | undefined,
  ) {
    super(error.message);
  }
}

/**
 * A key from D1, asked of its gate: unknown or revoked keys are a 401, a key over a limit a 429
 * naming the limit, with `Retry-After` when it would pass (thrown as RefusedKey).
 */
export async function admitTeamKey(services: KeyServices, presented: string, kind: AdmissionKind): Promise<Caller> {
  const hash = await sha256Hex(presented);
  const verdict = await gateFor(services.gates, hash).admit(kind);
  switch (verdict.kind) {
    case "unknown":
      throw new RefusedKey(new GatewayError("authentication", "Invalid gateway key."), undefined);
    case "revoked":
      throw new RefusedKey(new GatewayError("authentication", "This gateway key was revoked.", { code: "key_revoked" }), verdict.id);
    case "limited":
      throw new RefusedKey(keyLimitError(verdict.message, verdict.retryAfterSeconds), verdict.id);
    case "admitted":
      return { keyId: verdict.id, sessionScope: verdict.id, name: verdict.name, models: verdict.models, gate: hash, lease: verdict.lease };
  }
}

export function keyLimitError(message: string, retryAfterSeconds: number): GatewayError {
  return new GatewayError("rate_limited", `${message} Retry in ${retryAfterSeconds} s.`, {
    code: "rate_limit_exceeded",
    headers: new Headers({ "retry-after": String(retryAfterSeconds) }),
  });
}

/**
 * A 403 naming the model when the caller's key may not use it. Several names may stand for one
 * request (an Anthropic client's model and the upstream model it maps to): one allowed is enough.
 */
export function assertModelAllowed(caller: Caller | undefined, ...names: (string | undefined)[]): void {
  const models = caller?.models;
  const asked = names.filter((name): name is string => name !== undefined);
  if (!models || asked.length === 0) return;
  if (asked.some((name) => models.some((pattern) => matchesPattern(pattern, name)))) return;
  throw new GatewayError("permission", `This gateway key may not use the model '${asked[0]!.slice(0, 100)}'.`, { code: "model_not_allowed", param: "model" });
}

export interface AccountingOptions {
  services: KeyServices | undefined;
  prices: [string, ModelPrice][];
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** Whose `waitUntil` it is (the request's execution context, or the Durable Object's state): rows batch within it. */
  owner: object | undefined;
}

/** When the request's log line is written: its usage row, and its tokens and stream place back to the gate. */
export function accountRequest(log: RequestLog, caller: Caller, options: AccountingOptions): void {
  log.onWritten((line) => {
    const row = usageRowOf(line, caller, options.prices);
    const services = options.services;
    if (!services) return;
    usageRecorder(services.db, options.owner).record(row, options.waitUntil);
    if (caller.gate && (caller.lease || row.input_tokens + row.output_tokens > 0)) {
      const finishing = gateFor(services.gates, caller.gate)
        .finish(caller.lease, row.input_tokens + row.output_tokens)
        .catch((error: unknown) => console.error(JSON.stringify({ level: "warn", message: "a key's gate could not be told a request ended", error: String(error) })));
      options.waitUntil?.(finishing);
    }
  });
}

export function usageRowOf(line: LogLine, caller: Caller, prices: [string, ModelPrice][]): UsageRow {
  const upstreamModel = typeof line.upstream_model === "string" ? line.upstream_model : line.model;
  const tokens = { input: line.input_tokens ?? 0, cached: line.cached_tokens ?? 0, output: line.output_tokens ?? 0 };
  return {
    at: Date.now(),
    key_id: caller.keyId,
    protocol: protocolOf(line.route),
    route: line.route,
    client_model: line.model ?? null,
    upstream_model: upstreamModel ?? null,
    account_id: typeof line.account === "string" ? line.account : null,
    status: line.status ?? null,
    terminal: line.terminal ?? null,
    input_tokens: tokens.input,
    cached_tokens: tokens.cached,
    output_tokens: tokens.output,
    reasoning_tokens: line.reasoning_tokens ?? 0,
    ttfb_ms: line.ttfb_ms ?? null,
    duration_ms: line.duration_ms,
    turn: typeof line.turn === "string" ? line.turn : null,
    session: typeof line.session_ref === "string" ? line.session_ref : null,
    cost_micro_usd: costMicroUsd(prices, upstreamModel, tokens),
  };
}

function protocolOf(route: string): string {
  if (route.startsWith("WS ")) return "responses-websocket";
  if (route.includes("/messages")) return "anthropic";
  if (route.includes("/chat/completions")) return "chat-completions";
  return "responses";
}
