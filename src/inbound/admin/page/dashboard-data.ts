/**
 * Everything the dashboard shows, gathered before anything is rendered (the components stay pure
 * functions of it): usage over the chosen days, the recent requests, the keys with their gates'
 * counters, and the accounts. It asks the same functions the JSON admin API answers from.
 */
import type { Context } from "hono";
import type { GatewayEnv } from "../../../gateway-env";
import { teamServices } from "../../../team/caller";
import { activeKeyStatuses, listKeys, type KeyRow } from "../../../team/gateway-keys";
import type { GateStatus } from "../../../team/key-gate-durable-object";
import { recentRequests, sessionCounts, usageByGroup, usageSeries, usageTotals, type Range, type RecentRequest, type UsageTotals } from "../../../team/usage-queries";
import { accountsView, type AccountView } from "../accounts-view";

export type Metric = "tokens" | "requests" | "cost";

export interface DashboardQuery {
  days: 7 | 30;
  metric: Metric;
}

export type GroupedUsage = UsageTotals & { group: string };
export type SeriesPoint = UsageTotals & { bucket: string; group: string };

export interface TeamData {
  totals: UsageTotals;
  sessions: { sessions: number; session_requests: number };
  byKey: GroupedUsage[];
  byModel: GroupedUsage[];
  seriesByKey: SeriesPoint[];
  seriesByModel: SeriesPoint[];
  /** A query answered only its cap of groups or points (usage-queries.ts). */
  truncated: boolean;
  requests: RecentRequest[];
  keys: KeyRow[];
  /** Key id → its gate's counters now (keys not revoked). */
  keyUse: Map<string, GateStatus>;
}

export interface Dashboard {
  query: DashboardQuery;
  now: number;
  range: Range;
  /** The range's UTC days, oldest first: one bar each, with or without usage. */
  days: string[];
  /** Undefined without the DB and KEY_GATES bindings: only the accounts can be shown. */
  team: TeamData | undefined;
  accounts: AccountView[];
}

const dayMs = 86_400_000;
const recentRequestsShown = 50;

export function dashboardQuery(context: Context<GatewayEnv>): DashboardQuery {
  const metric = context.req.query("metric");
  return {
    days: context.req.query("days") === "30" ? 30 : 7,
    metric: metric === "requests" || metric === "cost" ? metric : "tokens",
  };
}

export async function loadDashboard(context: Context<GatewayEnv>, query: DashboardQuery): Promise<Dashboard> {
  const now = Date.now();
  // Whole UTC days, today included: the bars and the usage rows' day buckets line up.
  const today = Math.floor(now / dayMs) * dayMs;
  const range = { from: today - (query.days - 1) * dayMs, to: now + 1 };
  const days = Array.from({ length: query.days }, (_, index) => new Date(range.from + index * dayMs).toISOString().slice(0, 10));
  const services = teamServices(context.env);
  const [accounts, team] = await Promise.all([
    accountsView(context),
    services
      ? Promise.all([
          usageTotals(services.db, range),
          sessionCounts(services.db, range),
          usageByGroup(services.db, range, "key"),
          usageByGroup(services.db, range, "model"),
          usageSeries(services.db, range, "key", "day"),
          usageSeries(services.db, range, "model", "day"),
          recentRequests(services.db, recentRequestsShown),
          listKeys(services.db),
          activeKeyStatuses(services),
        ]).then(([totals, sessions, byKey, byModel, seriesByKey, seriesByModel, requests, keys, keyUse]) => ({
          totals,
          sessions,
          byKey: byKey.rows,
          byModel: byModel.rows,
          seriesByKey: seriesByKey.rows,
          seriesByModel: seriesByModel.rows,
          // The page's tables and charts show at most the queries' caps (usage-queries.ts); it says so when they cut.
          truncated: byKey.truncated || byModel.truncated || seriesByKey.truncated || seriesByModel.truncated,
          requests,
          keys,
          keyUse,
        }))
      : undefined,
  ]);
  return { query, now, range, days, team, accounts };
}

/** A key id as people know it: its name for a key in D1; static keys and open use say what they are. */
export function keyLabeller(keys: KeyRow[]): (keyId: string) => string {
  const names = new Map(keys.map((key) => [key.id, key.name]));
  return (keyId) => {
    const name = names.get(keyId);
    if (name !== undefined) return name;
    if (keyId === "open") return "open (no key)";
    if (keyId.startsWith("static:")) return `static key ${keyId.slice("static:".length)}`;
    return keyId;
  };
}

/** The value a chart shows for a usage total. */
export function metricValue(metric: Metric, usage: UsageTotals): number {
  switch (metric) {
    case "tokens":
      return usage.input_tokens + usage.output_tokens;
    case "requests":
      return usage.requests;
    case "cost":
      return usage.cost_micro_usd;
  }
}
