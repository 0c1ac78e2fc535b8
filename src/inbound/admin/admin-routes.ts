/**
 * The operator's endpoints, behind `ADMIN_KEY` (never a gateway key): the upstream accounts
 * (`GET /admin/accounts` — settings, cooldowns, ChatGPT token state and usage windows;
 * `POST /admin/accounts/{id}/clear-cooldown[?model=…]`), the team's keys and usage
 * (team-routes.ts), and the admin page (page/). Without `ADMIN_KEY` the routes do not exist.
 * No credential or token is ever shown.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { presentedKey } from "../../middleware/gateway-auth";
import { isAdminKey } from "./admin-guard-durable-object";
import { signedInSession } from "./admin-session";
import { accountsView, clearCooldown } from "./accounts-view";
import { pageFormPrefix, pageRoutes } from "./page/page-routes";
import { teamRoutes } from "./team-routes";
import { teamServices } from "../../team/caller";
import { ensureTeamSchema } from "../../team/team-schema";

export const adminRoutes = new Hono<GatewayEnv>();

adminRoutes.use("/admin", adminAuth(), teamTables());
adminRoutes.use("/admin/*", adminAuth(), teamTables());
adminRoutes.route("/", teamRoutes);
adminRoutes.route("/", pageRoutes);

adminRoutes.get("/admin/accounts", async (context) => context.json({ accounts: await accountsView(context) }));

adminRoutes.post("/admin/accounts/:id/clear-cooldown", async (context) => {
  const model = context.req.query("model");
  await clearCooldown(context, context.req.param("id"), model);
  return context.json({ cleared: { account: context.req.param("id"), model: model ?? "*" } });
});

/**
 * `/admin/*` needs ADMIN_KEY (or the admin page's signed-in session, admin-session.ts); without
 * ADMIN_KEY the routes do not exist. The sign-in page itself is open.
 */
function adminAuth(): MiddlewareHandler<GatewayEnv> {
  return async function adminAuthMiddleware(context, next) {
    const adminKey = context.get("configuration").adminKey;
    if (!adminKey) throw new GatewayError("not_found", `No route for ${context.req.method} ${new URL(context.req.url).pathname}.`);
    if (openAdminPaths.has(context.req.path)) return next();
    // A key presented is a try of the admin key: refused outright for an address that failed
    // too often lately, and counted when wrong (admin-guard-durable-object.ts).
    const presented = presentedKey(context.req.raw.headers);
    if (presented !== undefined && (await isAdminKey(context, presented, adminKey))) return next();
    if (await signedInSession(context, adminKey)) {
      // A signed-in browser may read the JSON API, but changes things only through the page's
      // forms, which carry a CSRF token: SameSite=Strict alone still lets in a form posted from
      // a sibling subdomain (the same site).
      if (context.req.method === "GET" || context.req.method === "HEAD" || context.req.path.startsWith(pageFormPrefix)) return next();
      throw new GatewayError("permission", "Changes through the admin API need the admin key itself; the admin page's forms carry their own token.");
    }
    // A page form sent after the session ran out: back to the sign-in form, not a JSON error.
    if (context.req.path.startsWith(pageFormPrefix)) return context.redirect("/admin", 303);
    throw new GatewayError("authentication", "Invalid admin key.");
  };
}

/** The team's tables exist before a route reads them (the Worker makes them, src/team/team-schema.ts). */
function teamTables(): MiddlewareHandler<GatewayEnv> {
  return async function teamTablesMiddleware(context, next) {
    const db = teamServices(context.env)?.db;
    if (db) await ensureTeamSchema(db);
    return next();
  };
}

/**
 * What the admin page serves before sign-in (page/page-routes.tsx): the page itself shows the
 * sign-in form, and signing out needs no session that may have run out already.
 */
export const openAdminPaths = new Set(["/admin", "/admin/login", "/admin/logout"]);
