/**
 * What one form's action has to say on the page it redirects to (post → 303 → GET /admin): a
 * notice, an error, or the key just created — which is shown this once and never again. It
 * travels in a short-lived cookie (HttpOnly, SameSite=Strict, path /admin), encrypted with
 * AES-GCM under a key derived from ADMIN_KEY, so that a new gateway key is never written in clear
 * to the browser's cookie store; the GET that shows it deletes it.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { GatewayEnv } from "../../../gateway-env";
import { base64UrlFromBytes, bytesFromBase64Url } from "../../../shared/base64url";

export interface Flash {
  notice?: string;
  error?: string;
  /** A key just created: its name and the key itself. */
  createdKey?: { name: string; key: string };
}

const flashCookie = "turnpike_admin_flash";
const encoder = new TextEncoder();

async function flashKey(adminKey: string): Promise<CryptoKey> {
  const material = await crypto.subtle.digest("SHA-256", encoder.encode(`turnpike-admin-flash\n${adminKey}`));
  return crypto.subtle.importKey("raw", material, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export async function putFlash(context: Context<GatewayEnv>, adminKey: string, flash: Flash): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await flashKey(adminKey), encoder.encode(JSON.stringify(flash))));
  const value = new Uint8Array(iv.length + sealed.length);
  value.set(iv);
  value.set(sealed, iv.length);
  setCookie(context, flashCookie, base64UrlFromBytes(value), {
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(context.req.url).protocol === "https:",
    path: "/admin",
    // Long enough for the redirect that follows; a flash never shown is gone soon after.
    maxAge: 120,
  });
}

/** The flash the last action left, if any (and one that cannot be read is as none): deleted as it is read. */
export async function takeFlash(context: Context<GatewayEnv>, adminKey: string): Promise<Flash | undefined> {
  const value = getCookie(context, flashCookie);
  if (!value) return undefined;
  deleteCookie(context, flashCookie, { path: "/admin" });
  try {
    const bytes = bytesFromBase64Url(value);
    if (!bytes) return undefined;
    const opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, await flashKey(adminKey), bytes.slice(12));
    return JSON.parse(new TextDecoder().decode(opened)) as Flash;
  } catch {
    return undefined;
  }
}
