/**
 * Who may use the operator's endpoints: a request with `ADMIN_KEY` (Bearer or x-api-key: the API),
 * or a browser signed in on the admin page. Signing in sets an HttpOnly, SameSite=Strict cookie
 * holding an expiry and an HMAC of it under a key derived from ADMIN_KEY — no key in the page,
 * in local storage or in the cookie, nothing stored server-side, and changing ADMIN_KEY signs
 * everyone out. Forms carry a CSRF token (an HMAC of the cookie), checked on every POST from the
 * page, on top of SameSite=Strict.
 */
import type { Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import type { GatewayEnv } from "../../gateway-env";
import { keysMatch } from "../../middleware/gateway-auth";

export const sessionCookie = "turnpike_admin";
const sessionMs = 12 * 60 * 60_000;
const encoder = new TextEncoder();

async function hmac(adminKey: string, purpose: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(`turnpike-admin-session\n${adminKey}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(`${purpose}\n${text}`));
  return [...new Uint8Array(signature)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The browser's signed-in session, if it has a valid one: the cookie's value (for CSRF tokens). */
export async function signedInSession(context: Context<GatewayEnv>, adminKey: string): Promise<string | undefined> {
  const value = getCookie(context, sessionCookie);
  if (!value) return undefined;
  const [expires, signature] = value.split(".");
  if (!expires || !signature || Number(expires) < Date.now()) return undefined;
  return (await keysMatch(signature, await hmac(adminKey, "session", expires))) ? value : undefined;
}

export async function signIn(context: Context<GatewayEnv>, adminKey: string): Promise<void> {
  const expires = String(Date.now() + sessionMs);
  setCookie(context, sessionCookie, `${expires}.${await hmac(adminKey, "session", expires)}`, {
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(context.req.url).protocol === "https:",
    path: "/admin",
    maxAge: sessionMs / 1000,
  });
}

export function signOut(context: Context<GatewayEnv>): void {
  deleteCookie(context, sessionCookie, { path: "/admin" });
}

export function csrfToken(adminKey: string, session: string): Promise<string> {
  return hmac(adminKey, "csrf", session);
}

export async function csrfValid(adminKey: string, session: string, token: unknown): Promise<boolean> {
  return typeof token === "string" && token.length > 0 && (await keysMatch(token, await csrfToken(adminKey, session)));
}
