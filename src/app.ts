/**
 * The gateway's request path, in order: internal headers dropped → request log → configuration → health → auth → the
 * inbound protocol's routes. Every error, wherever thrown, is rendered once in `onError`, in
 * the shape of the protocol the client speaks.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { loadConfiguration, type Configuration } from "./configuration/configuration";
import { GatewayError, toGatewayError } from "./errors/gateway-error";
import { anthropicErrorResponse } from "./errors/render-anthropic-error";
import { openAiErrorResponse } from "./errors/render-openai-error";
import { messagesPaths, messagesRoutes } from "./inbound/anthropic/messages-routes";
import { chatCompletionsPaths, chatCompletionsRoutes } from "./inbound/chat-completions/chat-completions-routes";
import { adminRoutes } from "./inbound/admin/admin-routes";
import { isAdminKey } from "./inbound/admin/admin-guard-durable-object";
import type { GatewayEnv } from "./gateway-env";
import { responsesBasePaths, responsesRoutes } from "./inbound/responses/responses-routes";
import { gatewayAuth, presentedKey } from "./middleware/gateway-auth";
import { requestLog } from "./middleware/request-log";
import { stripInternalHeaders } from "./middleware/strip-internal-headers";
import { accountServices } from "./accounts/account-services";

export const app = new Hono<GatewayEnv>();

app.use("*", stripInternalHeaders());
app.use("*", requestLog());
app.use("*", configuration());
app.get("/health", (context) => {
  const { accounts } = context.get("configuration");
  return context.json({ status: "ok", upstream: accounts.length === 1 ? accounts[0]!.kind : "multiple", accounts: accounts.length });
});
// Claude Code probes the base URL with HEAD before its first request (docs/protocol.md §5).
app.get("/", (context) => context.json({ name: "turnpike", status: "ok" }));
// The operator's endpoints have their own key (ADMIN_KEY), checked before gateway keys.
app.route("/", adminRoutes);
app.use("*", gatewayAuth());
app.route("/", responsesRoutes);
app.route("/", messagesRoutes);
app.route("/", chatCompletionsRoutes);

// A known path with the wrong method is a 405, not a 404.
const knownPaths = responsesBasePaths.flatMap((base) => [`${base}/responses`, `${base}/responses/compact`, `${base}/models`]);
for (const path of [...knownPaths, ...messagesPaths, ...chatCompletionsPaths, "/health", "/"]) {
  app.all(path, () => {
    throw new GatewayError("method_not_allowed", "This method is not allowed on this path.");
  });
}

app.notFound((context) => renderError(context, new GatewayError("not_found", `No route for ${context.req.method} ${new URL(context.req.url).pathname}.`)));
app.onError((error, context) => renderError(context, toGatewayError(error)));

function renderError(context: Context<GatewayEnv>, error: GatewayError): Response {
  const log = context.get("log");
  if (log) {
    log.errorKind = error.kind;
    if (error.upstreamStatus !== undefined) log.upstreamStatus = error.upstreamStatus;
  }
  if (error.kind === "internal") {
    console.error(JSON.stringify({ level: "error", request_id: log?.requestId, message: "unhandled error", error: describe(error.cause) }));
  } else if (error.kind === "configuration" && error.detail === undefined) {
    // (Problems found loading the configuration were logged once, when it was loaded.)
    console.error(JSON.stringify({ level: "error", request_id: log?.requestId, message: error.message }));
  } else if (error.kind === "service_unavailable") {
    console.error(JSON.stringify({ level: "warn", request_id: log?.requestId, message: error.message, error: describe(error.cause) }));
  }
  // Each client gets errors in the shape of the protocol it speaks.
  const path = new URL(context.req.url).pathname;
  if (path.startsWith("/v1/messages")) return anthropicErrorResponse(error, log?.requestId);
  return openAiErrorResponse(error);
}

/**
 * `GET /health?verbose` with the admin key: what is wrong with the configuration. The key is read
 * straight from the environment, as the configuration that would hold it failed to load.
 */
async function isVerboseHealthCheck(context: Context<GatewayEnv>): Promise<boolean> {
  const adminKey = (context.env as Record<string, unknown> | undefined)?.ADMIN_KEY;
  if (context.req.path !== "/health" || context.req.query("verbose") === undefined) return false;
  if (typeof adminKey !== "string" || !adminKey.trim()) return false;
  const presented = presentedKey(context.req.raw.headers);
  return presented !== undefined && isAdminKey(context, presented, adminKey.trim());
}

/** An error's name and message for the log; upstream secrets never reach error objects. */
function describe(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

function configuration(): MiddlewareHandler<GatewayEnv> {
  return async function configurationMiddleware(context, next) {
    let loaded: Configuration;
    try {
      loaded = loadConfiguration(context.env ?? {});
    } catch (error) {
      if (error instanceof GatewayError && (await isVerboseHealthCheck(context))) {
        return context.json({ status: "misconfigured", problem: error.detail ?? error.message }, 500);
      }
      throw error;
    }
    context.set("configuration", loaded);
    context.set("services", accountServices(loaded, (context.env ?? {}) as Record<string, unknown>));
    await next();
  };
}
