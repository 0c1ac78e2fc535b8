// Guessing the admin key: an address that tried 10 wrong keys in 15 minutes is refused — even
// with the right key — with a 429 and Retry-After, on the JSON API and on the sign-in form
// alike; other addresses are not. The window itself is tested in failed-sign-ins.test.ts.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const worker = (exports as unknown as { default: Fetcher }).default;
const adminKey = "test-admin-key";

function api(address: string, key: string): Promise<Response> {
  return worker.fetch("http://gateway.test/admin/keys", { headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": address } });
}

function signIn(address: string, key: string): Promise<Response> {
  return worker.fetch("http://gateway.test/admin/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": address },
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

  it("right keys are not counted", async () => {
    for (let attempt = 0; attempt < 12; attempt += 1) expect((await api("192.0.2.9", adminKey)).status).toBe(200);
  });
});
