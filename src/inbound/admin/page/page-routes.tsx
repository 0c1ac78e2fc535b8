/**
 * The admin page's routes. `GET /admin` is the sign-in form, or once signed in the dashboard;
 * `POST /admin/login` and `/admin/logout` sign in and out (admin-session.ts). Every form on the
 * dashboard posts under `/admin/ui/`, carries the session's CSRF token (refused with a 403 when
 * it does not match), calls the same functions the JSON admin API does, and redirects (303) back
 * to the page with a flash saying what happened — the POST-redirect-GET that keeps a reload from
 * sending the form again.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { GatewayError } from "../../../errors/gateway-error";
import type { GatewayEnv } from "../../../gateway-env";
import { teamServices } from "../../../team/caller";
import { createKey, createKeySchema, revokeKey, updateKey, updateKeySchema, type KeyServices } from "../../../team/gateway-keys";
import { lockedOut, tryAdminKey } from "../admin-guard-durable-object";
import { csrfToken, csrfValid, signedInSession, signIn, signOut } from "../admin-session";
import { clearCooldown } from "../accounts-view";
import { dashboardQuery, loadDashboard } from "./dashboard-data";
import { putFlash, takeFlash, type Flash } from "./flash";
import { formProblem, keyFields } from "./key-form";
import { pageHeaders } from "./page-headers";
import { DashboardPage, RefusedPage, SignInPage } from "./pages";

/** Where the page's forms post; a form sent after its session ran out is sent back to sign in (admin-routes.ts). */
export const pageFormPrefix = "/admin/ui/";

export const pageRoutes = new Hono<GatewayEnv>();

for (const path of ["/admin", "/admin/login", "/admin/logout", `${pageFormPrefix}*`]) pageRoutes.use(path, pageHeaders());
// A form is a few hundred bytes; the sign-in form is open to anyone, so its body is bounded.
for (const path of ["/admin/login", "/admin/logout", `${pageFormPrefix}*`]) {
  pageRoutes.use(path, bodyLimit({ maxSize: 16 * 1024, onError: (context) => context.text("This form is too large.", 413) }));
}

pageRoutes.get("/admin", async (context) => {
  const adminKey = adminKeyOf(context);
  const session = await signedInSession(context, adminKey);
  if (!session) return context.html(<SignInPage />);
  const [dashboard, flash, csrf] = await Promise.all([loadDashboard(context, dashboardQuery(context)), takeFlash(context, adminKey), csrfToken(adminKey, session)]);
  return context.html(<DashboardPage dashboard={dashboard} csrf={csrf} flash={flash} />);
});

pageRoutes.post("/admin/login", async (context) => {
  const adminKey = adminKeyOf(context);
  // Posted from another site (any page the operator visits could post it): refused and not
  // counted, so that no other site can lock the operator's address out.
  if (!sameOrigin(context)) return context.html(<RefusedPage message="Sign in from the admin page itself: this form was sent from another site." />, 403);
  const presented = (await context.req.parseBody()).key;
  const verdict = typeof presented === "string" && presented !== "" ? await tryAdminKey(context, presented, adminKey) : ({ kind: "wrong" } as const);
  if (verdict.kind === "locked") {
    const error = lockedOut(verdict.retryAfterSeconds);
    error.headers.forEach((value, name) => context.header(name, value));
    return context.html(<SignInPage error={error.message} />, 429);
  }
  if (verdict.kind === "wrong") return context.html(<SignInPage error="That is not the admin key." />, 401);
  await signIn(context, adminKey);
  return context.redirect("/admin", 303);
});

pageRoutes.post("/admin/logout", async (context) => {
  const adminKey = adminKeyOf(context);
  const session = await signedInSession(context, adminKey);
  // Without a session (it ran out) there is nothing to forge: the browser just goes back to sign in.
  if (session && !(await csrfValid(adminKey, session, (await context.req.parseBody()).csrf))) return refused(context);
  signOut(context);
  return context.redirect("/admin", 303);
});

pageRoutes.post(`${pageFormPrefix}keys`, (context) =>
  formAction(context, "#keys", async (form) => {
    const input = createKeySchema.safeParse(keyFields(form));
    if (!input.success) return { error: `The key was not created. ${formProblem(input.error)}` };
    const { key, row } = await createKey(team(context), input.data);
    return { notice: `Key "${row.name}" created.`, createdKey: { name: row.name, key } };
  }),
);

pageRoutes.post(`${pageFormPrefix}keys/:id/update`, (context) =>
  formAction(context, "#keys", async (form) => {
    const patch = updateKeySchema.safeParse(keyFields(form));
    if (!patch.success) return { error: `The key was not changed. ${formProblem(patch.error)}` };
    const row = await updateKey(team(context), context.req.param("id"), patch.data);
    return { notice: `Key "${row.name}" saved: its models and limits hold from its next request.` };
  }),
);

pageRoutes.post(`${pageFormPrefix}keys/:id/revoke`, (context) =>
  formAction(context, "#keys", async () => {
    const row = await revokeKey(team(context), context.req.param("id"));
    return { notice: `Key "${row.name}" revoked: its next request is refused.` };
  }),
);

pageRoutes.post(`${pageFormPrefix}accounts/:id/clear-cooldown`, (context) =>
  formAction(context, "#accounts", async (form) => {
    const id = context.req.param("id");
    const model = typeof form.model === "string" && form.model ? form.model : undefined;
    await clearCooldown(context, id, model);
    return { notice: model ? `Cooldown of ${id} for ${model} cleared.` : `Cooldowns of ${id} cleared.` };
  }),
);

type FormBody = Awaited<ReturnType<Context<GatewayEnv>["req"]["parseBody"]>>;

/**
 * A dashboard form: signed in, with the session's CSRF token, or refused (403); then the action,
 * whose outcome — or the error it met, such as a key that is gone — is the flash on the page the
 * browser is sent back to.
 */
async function formAction(context: Context<GatewayEnv>, anchor: string, action: (form: FormBody) => Promise<Flash>): Promise<Response> {
  const adminKey = adminKeyOf(context);
  const session = await signedInSession(context, adminKey);
  const form = await context.req.parseBody();
  // The admin key alone (the API) has no session and so no token: these routes are the page's.
  if (!session || !(await csrfValid(adminKey, session, form.csrf))) return refused(context);
  let flash: Flash;
  try {
    flash = await action(form);
  } catch (error) {
    if (!(error instanceof GatewayError) || error.kind === "internal") throw error;
    flash = { error: error.message };
  }
  await putFlash(context, adminKey, flash);
  return context.redirect(`/admin${anchor}`, 303);
}

/**
 * Whether a form was posted from this origin's own page, as the browser tells: `Sec-Fetch-Site`
 * where it sends one (every current browser; `none` is the user's own navigation), else
 * `Origin`, which a page can blank to `null` for its requests and so counts as another site.
 * A request with neither is no browser's: it is judged by its key alone.
 */
function sameOrigin(context: Context<GatewayEnv>): boolean {
  const site = context.req.header("sec-fetch-site");
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = context.req.header("origin");
  return origin === undefined || origin === new URL(context.req.url).origin;
}

function refused(context: Context<GatewayEnv>): Response | Promise<Response> {
  return context.html(<RefusedPage message="This form's security token is missing or out of date. Reload the admin page and try again." />, 403);
}

/** The admin key: the admin middleware lets no request reach these routes without one. */
function adminKeyOf(context: Context<GatewayEnv>): string {
  const adminKey = context.get("configuration").adminKey;
  if (!adminKey) throw new GatewayError("not_found", "No admin page without ADMIN_KEY.");
  return adminKey;
}

function team(context: Context<GatewayEnv>): KeyServices {
  const services = teamServices(context.env);
  if (!services) throw new GatewayError("service_unavailable", "Team keys need the DB (D1) and KEY_GATES bindings (see docs/team.md).", { retryable: false });
  return services;
}
