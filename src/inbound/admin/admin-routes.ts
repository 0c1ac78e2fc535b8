/**
 * The operator's view of the upstream accounts, behind `ADMIN_KEY` (never a gateway key):
 * `GET /admin/accounts` lists each account's settings, cooldowns and (ChatGPT) token state;
 * `POST /admin/accounts/{id}/clear-cooldown[?model=…]` clears cooldowns. Without `ADMIN_KEY` the
 * routes do not exist. No credential or token is ever shown.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { presentsAdminKey, signedInSession } from "./admin-session";
import { teamRoutes } from "./team-routes";
import type { ChatGptAccountDurableObject } from "../../upstream/chatgpt/chatgpt-account-durable-object";

export const adminRoutes = new Hono<GatewayEnv>();

adminRoutes.use("/admin", adminAuth());
adminRoutes.use("/admin/*", adminAuth());
adminRoutes.route("/", teamRoutes);

adminRoutes.get("/admin/accounts", async (context) => {
  const { accounts } = context.get("configuration");
  const [cooldowns, quotas] = await Promise.all([context.get("services").cooldowns.all(), context.get("services").cooldowns.quotas().catch(() => ({}))]);
  const now = Date.now();
  const listed = await Promise.all(
    accounts.map(async (account) => ({
      id: account.id,
      kind: account.kind,
      url: account.kind === "mock" ? null : account.baseUrl,
      models: account.models.map((rule) => (rule.target ? `${rule.pattern}=${rule.target}` : rule.pattern)),
      priority: account.priority,
      weight: account.weight,
      transport: account.transport,
      cooldowns: Object.entries(cooldowns)
        .filter(([key, entry]) => key.startsWith(`${account.id}\n`) && entry.until > now)
        .map(([key, entry]) => ({ model: key.slice(account.id.length + 1), until: new Date(entry.until).toISOString(), seconds_left: Math.ceil((entry.until - now) / 1000), reason: entry.reason })),
      ...(account.credential.type === "chatgpt-oauth" ? { chatgpt: await chatGptStatus(context.env, account.id) } : {}),
      // The usage windows its backend last reported (ChatGPT accounts): used percent and resets.
      quota: (quotas as Record<string, unknown>)[account.id] ?? null,
    })),
  );
  return context.json({ accounts: listed });
});

adminRoutes.post("/admin/accounts/:id/clear-cooldown", async (context) => {
  const id = context.req.param("id");
  if (!context.get("configuration").accounts.some((account) => account.id === id)) {
    throw new GatewayError("not_found", `No account '${id.slice(0, 64)}'.`);
  }
  const model = context.req.query("model");
  await context.get("services").cooldowns.clear(id, model || undefined);
  return context.json({ cleared: { account: id, model: model ?? "*" } });
});

async function chatGptStatus(environment: Record<string, unknown>, accountId: string): Promise<unknown> {
  const namespace = environment.CHATGPT_ACCOUNTS as DurableObjectNamespace<ChatGptAccountDurableObject> | undefined;
  if (!namespace) return null;
  try {
    return await namespace.get(namespace.idFromName(accountId)).status();
  } catch {
    return { error: "status unavailable" };
  }
}

/**
 * `/admin/*` needs ADMIN_KEY (or the admin page's signed-in session, admin-session.ts); without
 * ADMIN_KEY the routes do not exist. The sign-in page itself is open.
 */
function adminAuth(): MiddlewareHandler<GatewayEnv> {
  return async function adminAuthMiddleware(context, next) {
    const adminKey = context.get("configuration").adminKey;
    if (!adminKey) throw new GatewayError("not_found", `No route for ${context.req.method} ${new URL(context.req.url).pathname}.`);
    if (openAdminPaths.has(context.req.path)) return next();
    if (await presentsAdminKey(context, adminKey)) return next();
    if (await signedInSession(context, adminKey)) {
      // A signed-in browser may read the JSON API, but changes things only through the page's
      // forms, which carry a CSRF token: SameSite=Strict alone still lets in a form posted from
      // a sibling subdomain (the same site).
      if (context.req.method === "GET" || context.req.method === "HEAD") return next();
      throw new GatewayError("permission", "Changes through the admin API need the admin key itself; the admin page's forms carry their own token.");
    }
    throw new GatewayError("authentication", "Invalid admin key.");
  };
}

/** What the admin page serves before sign-in (admin-page.tsx). */
export const openAdminPaths = new Set(["/admin", "/admin/login"]);
