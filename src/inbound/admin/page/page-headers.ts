/**
 * Response headers for everything the admin page serves. The page loads nothing from anywhere:
 * `default-src 'none'` with only its own inline stylesheet allowed (by hash, so no nonce has to
 * travel through the components), forms may post only to this origin, and no other site may
 * frame it (clickjacking on the revoke buttons). Nothing is cached: a page with a key just
 * created on it must not come back from a cache, nor a signed-in page after sign-out.
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../../../gateway-env";
import { stylesheet } from "./stylesheet";

let policy: Promise<string> | undefined;

async function contentSecurityPolicy(): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(stylesheet));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return [
    "default-src 'none'",
    `style-src 'sha256-${hash}'`,
    // The favicon is an empty data: URL (layout.tsx), so that the browser asks for none.
    "img-src data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

export function pageHeaders(): MiddlewareHandler<GatewayEnv> {
  return async function pageHeadersMiddleware(context, next) {
    await next();
    const headers = context.res.headers;
    headers.set("content-security-policy", await (policy ??= contentSecurityPolicy()));
    headers.set("x-frame-options", "DENY");
    headers.set("cache-control", "no-store");
    headers.set("x-content-type-options", "nosniff");
    // Not `no-referrer`: under it a browser sends `Origin: null` with the page's own forms, and the
    // sign-in form tells its own page from another site by Origin (page-routes.tsx).
    headers.set("referrer-policy", "same-origin");
  };
}
