/** What the operator asks of the usage rows: totals by key, model, account, day; a series over time; the recent requests. */
import type { UsageRow } from "./usage-recorder";

export type UsageGroup = "key" | "model" | "account" | "day" | "protocol";

const groupColumns: Record<UsageGroup, string> = {
  key: "key_id",
  model: "COALESCE(upstream_model, client_model, '')",
  account: "COALESCE(account_id, '')",
  day: "strftime('%Y-%m-%d', at / 1000, 'unixepoch')",
  protocol: "protocol",
};

const totals = `COUNT(*) AS requests, SUM(CASE WHEN status >= 400 OR terminal IN ('response.failed') THEN 1 ELSE 0 END) AS errors,
  SUM(input_tokens) AS input_tokens, SUM(cached_tokens) AS cached_tokens, SUM(output_tokens) AS output_tokens,
  SUM(reasoning_tokens) AS reasoning_tokens, SUM(cost_micro_usd) AS cost_micro_usd`;

export interface UsageTotals {
  requests: number;
  errors: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_micro_usd: number;
}

export interface Range {
  from: number;
  to: number;
}

export async function usageTotals(db: D1Database, range: Range): Promise<UsageTotals> {
  const row = await db.prepare(`SELECT ${totals} FROM usage WHERE at >= ? AND at < ?`).bind(range.from, range.to).first<Record<string, unknown>>();
  return numbers(row ?? {});
}

/** At most this many groups (the busiest) and series points (the latest buckets) are answered; `truncated` says when there were more. */
export const maxGroups = 200;
export const maxSeriesPoints = 5_000;

/** Rows up to a cap, and whether the query had more (it is asked for one more than the cap). */
interface Capped<Row> {
  rows: Row[];
  truncated: boolean;
}

function capped<Row>(rows: Row[], cap: number): Capped<Row> {
  return { rows: rows.slice(0, cap), truncated: rows.length > cap };
}

export async function usageByGroup(db: D1Database, range: Range, group: UsageGroup): Promise<Capped<UsageTotals & { group: string }>> {
  const { results } = await db
    .prepare(`SELECT ${groupColumns[group]} AS grouped, ${totals} FROM usage WHERE at >= ? AND at < ? GROUP BY grouped ORDER BY requests DESC LIMIT ${maxGroups + 1}`)
    .bind(range.from, range.to)
    .all<Record<string, unknown>>();
  return capped(results.map((row) => ({ group: String(row.grouped ?? ""), ...numbers(row) })), maxGroups);
}

/** Per day (or hour) and per key or model: what a chart of usage over time shows. */
export async function usageSeries(db: D1Database, range: Range, group: "key" | "model", bucket: "day" | "hour"): Promise<Capped<UsageTotals & { bucket: string; group: string }>> {
  const format = bucket === "day" ? "%Y-%m-%d" : "%Y-%m-%dT%H:00";
  const { results } = await db
    .prepare(`SELECT strftime('${format}', at / 1000, 'unixepoch') AS bucket, ${groupColumns[group]} AS grouped, ${totals} FROM usage WHERE at >= ? AND at < ? GROUP BY bucket, grouped ORDER BY bucket DESC LIMIT ${maxSeriesPoints + 1}`)
    .bind(range.from, range.to)
    .all<Record<string, unknown>>();
  const points = results.map((row) => ({ bucket: String(row.bucket), group: String(row.grouped ?? ""), ...numbers(row) }));
  const { rows, truncated } = capped(points, maxSeriesPoints);
  // Cut, the latest buckets are the ones kept, and the earliest kept one only if it is whole.
  const partial = truncated ? points[maxSeriesPoints]!.bucket : undefined;
  return { rows: rows.filter((point) => point.bucket !== partial).reverse(), truncated };
}

/** A usage row as the recent requests list it: with its id and its key's name (null for static keys and open use). */
export type RecentRequest = UsageRow & { id: number; key_name: string | null };

export async function recentRequests(db: D1Database, limit: number): Promise<RecentRequest[]> {
  const { results } = await db
    .prepare(`SELECT usage.*, gateway_keys.name AS key_name FROM usage LEFT JOIN gateway_keys ON gateway_keys.id = usage.key_id ORDER BY usage.id DESC LIMIT ?`)
    .bind(Math.min(Math.max(1, limit), 500))
    .all<RecentRequest>();
  return results;
}

/** Sessions that had a turn in the range (each a session object), and how many requests they served. */
export async function sessionCounts(db: D1Database, range: Range): Promise<{ sessions: number; session_requests: number }> {
  const row = await db
    .prepare(`SELECT COUNT(DISTINCT session) AS sessions, COUNT(session) AS session_requests FROM usage WHERE at >= ? AND at < ? AND session IS NOT NULL`)
    .bind(range.from, range.to)
    .first<{ sessions: number; session_requests: number }>();
  return { sessions: Number(row?.sessions ?? 0), session_requests: Number(row?.session_requests ?? 0) };
}

function numbers(row: Record<string, unknown>): UsageTotals {
  const number = (name: keyof UsageTotals) => Number(row[name] ?? 0);
  return {
    requests: number("requests"),
    errors: number("errors"),
    input_tokens: number("input_tokens"),
    cached_tokens: number("cached_tokens"),
    output_tokens: number("output_tokens"),
    reasoning_tokens: number("reasoning_tokens"),
    cost_micro_usd: number("cost_micro_usd"),
  };
}
