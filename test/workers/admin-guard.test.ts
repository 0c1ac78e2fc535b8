// Guessing the admin key: an address that tried 10 wrong keys in 15 minutes is refused — even
// with the right key — with a 429 and Retry-After, on the JSON API and on the sign-in form
// alike, guesses sent all at once too; other addresses are not, IPv6 clients are counted by
// their /64, and no other site can post the form to lock the operator out. The window itself is
// tested in failed-sign-ins.test.ts.
import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { AdminGuardDurableObject } from "../../src/inbound/admin/admin-guard-durable-object";
import { describe, expect, it } from "vitest";

const worker = (exports as unknown as { default: Fetcher }).default;
const adminKey = "test-admin-key";

function api(address: string, key: string): Promise<Response> {
  return worker.fetch("http://gateway.test/admin/keys", { headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": address } });
}

function signIn(address: string, key: string, origin?: string): Promise<Response> {
  return worker.fetch("http://gateway.test/admin/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": address, ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ key }).toString(),
    redirect: "manual",
  });
}

describe("wrong admin keys", () => {
  it("ten from one address lock it out of the API (the right key too), not another address", async () => {
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await api("203.0.113.1", `guess-${attempt}`)).status).toBe(401);
    const locked = await api("203.0.113.1", adminKey);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
    const body = (await locked.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("too_many_sign_in_failures");
    expect(body.error.message).toMatch(/Too many wrong admin keys from this address/);
    expect(body.error.message).not.toContain(adminKey);
    expect((await api("203.0.113.2", adminKey)).status).toBe(200);
  });

  it("the sign-in form counts the same tries: the form answers 429 with its message once locked", async () => {
    for (let attempt = 0; attempt < 6; attempt += 1) expect((await signIn("198.51.100.7", `guess-${attempt}`)).status).toBe(401);
    for (let attempt = 0; attempt < 4; attempt += 1) expect((await api("198.51.100.7", `guess-${attempt}`)).status).toBe(401);
    const locked = await signIn("198.51.100.7", adminKey);
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await locked.text()).toContain("Too many wrong admin keys from this address");
    expect(locked.headers.get("set-cookie")).toBeNull();
    // The right key from a clean address still signs in.
    expect((await signIn("198.51.100.8", adminKey)).status).toBe(303);
  });

  it("guesses sent all at once are counted one after the other: ten are judged, the rest refused", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, attempt) => api("203.0.113.77", `guess-${attempt}`)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30);
  });

  it("an IPv6 client is counted by its /64: a new address in it is still locked", async () => {
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await api(`2001:db8:77:1::${attempt + 1}`, `guess-${attempt}`)).status).toBe(401);
    expect((await api("2001:db8:77:1:ffff::9", adminKey)).status).toBe(429);
    expect((await api("2001:db8:77:2::1", adminKey)).status).toBe(200);
  });

  it("a sign-in form posted from another site is refused and not counted; an empty key is not counted", async () => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      expect((await signIn("198.51.100.50", `guess-${attempt}`, "https://evil.example")).status).toBe(403);
      expect((await signIn("198.51.100.50", "")).status).toBe(401);
    }
    expect((await signIn("198.51.100.50", adminKey, "http://gateway.test")).status).toBe(303);
  });

  it("the browser's Sec-Fetch-Site decides where it sends one; an Origin of null counts as another site", async () => {
    const post = (headers: Record<string, string>) =>
      worker.fetch("http://gateway.test/admin/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "198.51.100.60", ...headers },
        body: new URLSearchParams({ key: "guess" }).toString(),
        redirect: "manual",
      });
    for (const site of ["cross-site", "same-site"]) expect((await post({ "sec-fetch-site": site, origin: "http://gateway.test" })).status).toBe(403);
    expect((await post({ origin: "null" })).status).toBe(403);
    expect((await post({ "sec-fetch-site": "same-origin", origin: "null" })).status).toBe(401);
    expect((await post({ "sec-fetch-site": "none" })).status).toBe(401);
  });

  it("right keys are not counted", async () => {
    for (let attempt = 0; attempt < 12; attempt += 1) expect((await api("192.0.2.9", adminKey)).status).toBe(200);
  });

  it("keeps a bounded number of failures, whatever the number of addresses", async () => {
    const namespace = (env as unknown as { ADMIN_GUARD: DurableObjectNamespace<AdminGuardDurableObject> }).ADMIN_GUARD;
    const rows = await runInDurableObject(namespace.get(namespace.idFromName("admin-guard")), (guard, state) => {
      for (let index = 0; index < 20_200; index += 1) guard.tryKey(`10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`, "wrong", "right");
      return state.storage.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM failures").one().count;
    });
    expect(rows).toBeLessThanOrEqual(20_064);
  });
});
