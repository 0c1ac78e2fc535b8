/**
 * The operator's API for a team, behind ADMIN_KEY: gateway keys (create — the key shown once —,
 * list, edit, revoke) and usage (totals and series by key, model, account, day; the recent
 * requests). Keys and usage live in D1; without the DB binding these answer 503.
 */
import { Hono, type Context } from "hono";
import type * as z from "zod/mini";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { teamServices } from "../../team/caller";
import { createKey, createKeySchema, keyStatus, listKeys, revokeKey, updateKey, updateKeySchema, type KeyServices } from "../../team/gateway-keys";
import { recentRequests, sessionCounts, usageByGroup, usageSeries, usageTotals, type UsageGroup } from "../../team/usage-queries";
import { readJsonBody } from "../read-json-body";

export const teamRoutes = new Hono<GatewayEnv>();

teamRoutes.post("/admin/keys", async (context) => {
  const input = await validBody(context, createKeySchema);
  const { key, row } = await createKey(services(context), input);
  // The only time the key is shown.
  return context.json({ key, ...row }, 201);
});

teamRoutes.get("/admin/keys", async (context) => context.json({ keys: await listKeys(services(context).db) }));

teamRoutes.get("/admin/keys/:id", async (context) => {
  const status = await keyStatus(services(context), context.req.param("id"));
  return context.json(status);
});

teamRoutes.patch("/admin/keys/:id", async (context) => {
  const patch = await validBody(context, updateKeySchema);
  return context.json(await updateKey(services(context), context.req.param("id"), patch));
});

teamRoutes.post("/admin/keys/:id/revoke", async (context) => context.json(await revokeKey(services(context), context.req.param("id"))));

const groups = new Set<UsageGroup>(["key", "model", "account", "day", "protocol"]);

teamRoutes.get("/admin/usage", async (context) => {
  const db = services(context).db;
  const range = rangeOf(context);
  const group = (context.req.query("group") ?? "key") as UsageGroup;
  if (!groups.has(group)) throw new GatewayError("invalid_request", "group must be one of key, model, account, day, protocol.", { param: "group" });
  const seriesBy = context.req.query("series") === "model" ? "model" : "key";
  const bucket = context.req.query("bucket") === "hour" ? "hour" : "day";
  const [totals, grouped, series, sessions] = await Promise.all([usageTotals(db, range), usageByGroup(db, range, group), usageSeries(db, range, seriesBy, bucket), sessionCounts(db, range)]);
  return context.json({
    from: range.from,
    to: range.to,
    totals,
    sessions,
    group,
    groups: grouped.rows,
    groups_truncated: grouped.truncated,
    series: { by: seriesBy, bucket, points: series.rows, truncated: series.truncated },
  });
});

teamRoutes.get("/admin/requests", async (context) => {
  const limit = Number(context.req.query("limit") ?? 50);
  return context.json({ requests: await recentRequests(services(context).db, Number.isFinite(limit) ? limit : 50) });
});

function services(context: Context<GatewayEnv>): KeyServices {
  const team = teamServices(context.env);
  if (!team) throw new GatewayError("service_unavailable", "Team keys and usage need the DB (D1) and KEY_GATES bindings (see docs/team.md).", { retryable: false });
  return team;
}

/** `from` / `to` as epoch ms or ISO dates; the last 7 days by default. */
function rangeOf(context: Context<GatewayEnv>): { from: number; to: number } {
  const time = (text: string | undefined, fallback: number) => {
    if (!text) return fallback;
    const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(value)) throw new GatewayError("invalid_request", `'${text.slice(0, 40)}' is not a time (epoch ms or an ISO date).`);
    return value;
  };
  const to = time(context.req.query("to"), Date.now());
  return { from: time(context.req.query("from"), to - 7 * 86_400_000), to };
}

async function validBody<Schema extends z.ZodMiniType>(context: Context<GatewayEnv>, schema: Schema): Promise<z.infer<Schema>> {
  const { body } = await readJsonBody(context.req.raw, 64 * 1024);
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join(".") || null;
  throw new GatewayError("invalid_request", `${param ? `${param}: ` : ""}${issue?.code === "unrecognized_keys" ? `unknown fields (${issue.keys.join(", ")})` : (issue?.message ?? "invalid body")}`, { param });
}
