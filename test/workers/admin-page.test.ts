// The admin page's routes inside workerd, without a browser (test/browser/ has the browser):
// sign-in and its cookie, the page's headers, CSRF on every form, the key shown once through the
// flash, form errors in the page's words, and what a signed-in cookie may not do with the JSON API.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const worker = (exports as unknown as { default: Fetcher }).default;
const adminKey = "test-admin-key";
const origin = "http://gateway.test";

function post(path: string, form: Record<string, string>, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (cookie) headers.cookie = cookie;
  return worker.fetch(`${origin}${path}`, { method: "POST", headers, body: new URLSearchParams(form).toString(), redirect: "manual" });
}

function get(path: string, cookie?: string): Promise<Response> {
  return worker.fetch(`${origin}${path}`, { headers: cookie ? { cookie } : {}, redirect: "manual" });
}

/** The cookies a response sets, as a Cookie header (deleted ones left out). */
function cookiesOf(response: Response, previous = ""): string {
  const jar = new Map(previous ? previous.split("; ").map((pair) => pair.split("=", 2) as [string, string]) : []);
  for (const line of response.headers.getAll("set-cookie")) {
    const [pair] = line.split(";");
    const [name, value] = pair!.split("=", 2) as [string, string];
    if (/max-age=0/i.test(line) || value === "") jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
}

async function signedIn(): Promise<{ cookie: string; csrf: string }> {
  const response = await post("/admin/login", { key: adminKey });
  const cookie = cookiesOf(response);
  const page = await (await get("/admin", cookie)).text();
  return { cookie, csrf: /name="csrf" value="([0-9a-f]+)"/.exec(page)![1]! };
}

describe("the admin page", () => {
  it("signs in with the admin key only: an HttpOnly, SameSite=Strict cookie; a wrong key is a 401 with the form", async () => {
    const form = await get("/admin");
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('action="/admin/login"');
    const wrong = await post("/admin/login", { key: "test-key-1" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That is not the admin key.");
    expect(wrong.headers.getAll("set-cookie")).toEqual([]);
    const right = await post("/admin/login", { key: adminKey });
    expect([right.status, right.headers.get("location")]).toEqual([303, "/admin"]);
    const [cookie] = right.headers.getAll("set-cookie");
    expect(cookie).toMatch(/^turnpike_admin=\d+\.[0-9a-f]{64}; Max-Age=43200; Path=\/admin; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(adminKey);
  });

  it("serves every page with a CSP of its own, no framing and no caching", async () => {
    const { cookie } = await signedIn();
    for (const response of [await get("/admin"), await get("/admin", cookie), await post("/admin/login", { key: "nope" })]) {
      const policy = response.headers.get("content-security-policy")!;
      expect(policy).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
    const page = await (await get("/admin", cookie)).text();
    expect(page).not.toContain(adminKey);
    expect(page).not.toMatch(/<script/i);
  });

  it("shows a new key once, escapes what it is given, and refuses forms without the session's CSRF token", async () => {
    const { cookie, csrf } = await signedIn();
    expect((await post("/admin/ui/keys", { name: "no token" }, cookie)).status).toBe(403);
    expect((await post("/admin/ui/keys", { name: "bad token", csrf: "0".repeat(64) }, cookie)).status).toBe(403);
    const created = await post("/admin/ui/keys", { csrf, name: '<img src=x onerror="alert(1)">', models: "gpt-5.5, claude-*", requests_per_minute: "1,000" }, cookie);
    expect([created.status, created.headers.get("location")]).toEqual([303, "/admin#keys"]);
    const withFlash = cookiesOf(created, cookie);
    // The flash cookie carries the key encrypted, never in clear.
    expect(withFlash).not.toMatch(/tpk_/);
    const shown = await get("/admin", withFlash);
    const page = await shown.text();
    const key = /<code id="new-key-value">(tpk_[A-Za-z0-9]{40})<\/code>/.exec(page)?.[1];
    expect(key).toBeDefined();
    expect(page).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("gpt-5.5, claude-*");
    const again = await (await get("/admin", cookiesOf(shown, withFlash))).text();
    expect(again).not.toContain(key!);
    // The key works until it is revoked from the page.
    const id = /data-key-id="(key_[A-Za-z0-9]+)"/.exec(page)![1]!;
    const use = () => worker.fetch(`${origin}/v1/responses`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", input: "hi" }) });
    expect((await use()).status).toBe(200);
    expect((await post(`/admin/ui/keys/${id}/revoke`, { csrf }, cookie)).status).toBe(303);
    expect((await use()).status).toBe(401);
  });

  it("says what is wrong with a form in the page's words, and changes nothing", async () => {
    const { cookie, csrf } = await signedIn();
    const refused = await post("/admin/ui/keys", { csrf, name: "x", tokens_per_day: "-5" }, cookie);
    const page = await (await get("/admin", cookiesOf(refused, cookie))).text();
    expect(page).toContain("The key was not created. Tokens / day: must be greater than zero");
    const missing = await post("/admin/ui/keys/key_missing/update", { csrf, name: "x" }, cookie);
    expect(await (await get("/admin", cookiesOf(missing, cookie))).text()).toContain("No key &#39;key_missing&#39;.");
  });

  it("a signed-in cookie reads the JSON API but cannot change anything through it; an expired form goes back to sign in", async () => {
    const { cookie } = await signedIn();
    expect((await get("/admin/keys", cookie)).status).toBe(200);
    const change = await worker.fetch(`${origin}/admin/keys`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "from a cookie" }) });
    expect(change.status).toBe(403);
    const stale = await post("/admin/ui/keys", { name: "stale", csrf: "0" }, "turnpike_admin=1.00");
    expect([stale.status, stale.headers.get("location")]).toEqual([303, "/admin"]);
    const signOut = await post("/admin/logout", {}, "");
    expect([signOut.status, signOut.headers.get("location")]).toEqual([303, "/admin"]);
  });
});
