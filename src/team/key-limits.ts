/**
 * A gateway key's limits, counted exactly (pure; the key's Durable Object holds the state, so
 * that every isolate and location counts against the same numbers):
 * - requests per minute: a sliding window of the last minute's admissions;
 * - concurrent streams: leases, each released when its request ends, or expired after
 *   `leaseMs` (a request whose end was never reported cannot hold a place forever);
 * - tokens per day and per month (UTC): charged from usage as responses complete; a request is
 *   refused once the budget is used up, until the window turns.
 */

export interface KeyLimits {
  requests_per_minute?: number | undefined;
  tokens_per_day?: number | undefined;
  tokens_per_month?: number | undefined;
  concurrent_streams?: number | undefined;
}

export interface KeyCounters {
  /** Admission times within the last minute (at most `requests_per_minute` of them). */
  recent: number[];
  /** Lease id → when it expires. */
  leases: Record<string, number>;
  day: string;
  dayTokens: number;
  month: string;
  monthTokens: number;
}

export type LimitName = "requests_per_minute" | "concurrent_streams" | "tokens_per_day" | "tokens_per_month";

export type Admission =
  | { admitted: true; lease: string | undefined }
  | { admitted: false; limit: LimitName; message: string; retryAfterSeconds: number };

const minuteMs = 60_000;
/** A request that never reported its end gives its place back after this long. */
export const leaseMs = 15 * 60_000;

export function emptyCounters(now: number): KeyCounters {
  return { recent: [], leases: {}, day: dayOf(now), dayTokens: 0, month: monthOf(now), monthTokens: 0 };
}

/** What an admission takes: a stream place (`hold`), a place in the minute's requests (`count`). */
export interface AdmissionKind {
  hold: boolean;
  count: boolean;
}

/** Admits a request now, or says which limit refuses it and when it would pass. */
export function admit(limits: KeyLimits, counters: KeyCounters, now: number, leaseId: string, kind: AdmissionKind | boolean): Admission {
  const { hold, count } = typeof kind === "boolean" ? { hold: kind, count: true } : kind;
  roll(counters, now);
  if (limits.tokens_per_day !== undefined && counters.dayTokens >= limits.tokens_per_day) {
    return refusal("tokens_per_day", `This key's daily budget of ${limits.tokens_per_day} tokens is used up.`, nextDay(now) - now);
  }
  if (limits.tokens_per_month !== undefined && counters.monthTokens >= limits.tokens_per_month) {
    return refusal("tokens_per_month", `This key's monthly budget of ${limits.tokens_per_month} tokens is used up.`, nextMonth(now) - now);
  }
  const perMinute = limits.requests_per_minute;
  if (count && perMinute !== undefined && counters.recent.length >= perMinute) {
    return refusal("requests_per_minute", `This key may make ${perMinute} requests per minute.`, counters.recent[counters.recent.length - perMinute]! + minuteMs - now);
  }
  const streams = limits.concurrent_streams;
  const open = Object.values(counters.leases).sort((a, b) => a - b);
  if (hold && streams !== undefined && open.length >= streams) {
    return refusal("concurrent_streams", `This key may have ${streams} requests in progress at once.`, open[0]! - now);
  }
  if (count && perMinute !== undefined) counters.recent.push(now);
  if (!hold || streams === undefined) return { admitted: true, lease: undefined };
  counters.leases[leaseId] = now + leaseMs;
  return { admitted: true, lease: leaseId };
}

/** A request ended: its stream place is free, and its tokens count against the budgets. */
export function finish(counters: KeyCounters, now: number, lease: string | undefined, tokens: number): void {
  roll(counters, now);
  if (lease !== undefined) delete counters.leases[lease];
  if (tokens > 0) {
    counters.dayTokens += tokens;
    counters.monthTokens += tokens;
  }
}

/** Drops what is past: admissions older than a minute, expired leases, a day or month gone by. */
function roll(counters: KeyCounters, now: number): void {
  while (counters.recent.length > 0 && counters.recent[0]! <= now - minuteMs) counters.recent.shift();
  for (const [id, expires] of Object.entries(counters.leases)) if (expires <= now) delete counters.leases[id];
  const day = dayOf(now);
  if (counters.day !== day) {
    counters.day = day;
    counters.dayTokens = 0;
  }
  const month = monthOf(now);
  if (counters.month !== month) {
    counters.month = month;
    counters.monthTokens = 0;
  }
}

function refusal(limit: LimitName, message: string, waitMs: number): Admission {
  return { admitted: false, limit, message, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

const dayOf = (now: number) => new Date(now).toISOString().slice(0, 10);
const monthOf = (now: number) => new Date(now).toISOString().slice(0, 7);

function nextDay(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

function nextMonth(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
