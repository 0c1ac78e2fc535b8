/**
 * One Durable Object per gateway key kept in D1, named by the key's SHA-256: the one place its
 * limits are counted (key-limits.ts), so that the count is exact across isolates and locations,
 * and the one place that says whether the key is still valid, so that a revocation takes effect
 * on the next request everywhere, with no cache in between.
 *
 * Small state and small arguments — the model itty-durable is made for — but a plain object:
 * an unknown key (anyone can present one) must cost no storage, and itty-durable persists its
 * state after every call.
 */
import { DurableObject } from "cloudflare:workers";
import { admit, emptyCounters, finish, type AdmissionKind, type KeyCounters, type KeyLimits, type LimitName } from "./key-limits";

export interface KeyRecord {
  id: string;
  name: string;
  revokedAt: number | null;
  /** Model patterns the key may use; null: every model. */
  models: string[] | null;
  limits: KeyLimits;
}

export type GateVerdict =
  | { kind: "unknown" }
  | { kind: "revoked"; id: string }
  | { kind: "limited"; id: string; limit: LimitName; message: string; retryAfterSeconds: number }
  | { kind: "admitted"; id: string; name: string; models: string[] | null; lease: string | undefined };

export interface GateStatus {
  record: KeyRecord | null;
  requestsLastMinute: number;
  streams: number;
  tokensToday: number;
  tokensThisMonth: number;
}

export class KeyGateDurableObject extends DurableObject<Record<string, unknown>> {
  #record: KeyRecord | null | undefined;
  #counters: KeyCounters | undefined;

  /** The key as the admin API last wrote it (created, edited, revoked). */
  configure(record: KeyRecord): void {
    this.#record = record;
    this.ctx.storage.kv.put("record", record);
  }

  /**
   * Whether a request with this key may go on now. `hold`: it takes a stream place until
   * `finish` (a request that reaches a model); `count`: it counts against the requests per
   * minute (all do but a WebSocket's upgrade, whose turns each count).
   */
  admit(kind: AdmissionKind): GateVerdict {
    const record = this.#loadRecord();
    if (!record) return { kind: "unknown" };
    if (record.revokedAt !== null) return { kind: "revoked", id: record.id };
    const counters = this.#loadCounters();
    const admission = admit(record.limits, counters, Date.now(), crypto.randomUUID(), kind);
    if (!admission.admitted) return { kind: "limited", id: record.id, limit: admission.limit, message: admission.message, retryAfterSeconds: admission.retryAfterSeconds };
    this.#saveCounters(counters, record);
    return { kind: "admitted", id: record.id, name: record.name, models: record.models, lease: admission.lease };
  }

  /** A request ended: its stream place back, its tokens charged to the budgets. */
  finish(lease: string | undefined, tokens: number): void {
    const record = this.#loadRecord();
    if (!record) return;
    const counters = this.#loadCounters();
    finish(counters, Date.now(), lease, tokens);
    this.#saveCounters(counters, record);
  }

  status(): GateStatus {
    const record = this.#loadRecord() ?? null;
    const counters = this.#loadCounters();
    // Reading the numbers rolls the windows forward (nothing is admitted or charged).
    finish(counters, Date.now(), undefined, 0);
    return { record, requestsLastMinute: counters.recent.length, streams: Object.keys(counters.leases).length, tokensToday: counters.dayTokens, tokensThisMonth: counters.monthTokens };
  }

  #loadRecord(): KeyRecord | null {
    if (this.#record === undefined) this.#record = this.ctx.storage.kv.get<KeyRecord>("record") ?? null;
    return this.#record;
  }

  #loadCounters(): KeyCounters {
    this.#counters ??= this.ctx.storage.kv.get<KeyCounters>("counters") ?? emptyCounters(Date.now());
    return this.#counters;
  }

  /** Only what a limit needs is kept: a key without limits writes nothing per request. */
  #saveCounters(counters: KeyCounters, record: KeyRecord): void {
    if (Object.values(record.limits).every((value) => value === undefined)) return;
    this.ctx.storage.kv.put("counters", counters);
  }
}
