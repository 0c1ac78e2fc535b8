// The admin page in a real browser (Debian's Chromium, puppeteer-core), against the Worker in
// workerd with its D1 database migrated and two upstream accounts on the fake upstream (a ChatGPT
// one, which reports usage windows, and an API one). An operator signs in (a wrong key is
// refused), creates a key and reads it off the page once, a client uses it, the page shows the
// requests and their tokens, the key is edited and revoked, and its next request is refused. On
// the way: the cookie's flags, the page's headers, CSRF refusals, and the JSON API beside it.
// A screenshot of the dashboard is saved to test-results/admin-usage.png for a person to look at.
import Anthropic from "@anthropic-ai/sdk";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import type { HTTPResponse, Page } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fakeChatGptSeed, startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { launchChromium, type Chromium } from "../support/launch-chromium";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

const adminKey = "browser-test-admin-key-0123456789";
const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const screenshotPath = `${projectRoot}test-results/admin-usage.png`;

let upstream: FakeUpstream;
let gateway: Gateway;
let chromium: Chromium;
let page: Page;
/** What the browser's console said: a CSP violation shows here. */
const consoleLines: string[] = [];

beforeAll(async () => {
  // The browser first: without one the test fails at once, saying how to install it.
  chromium = await launchChromium();
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(`${projectRoot}wrangler.toml`, {
    UPSTREAMS: JSON.stringify([
      { id: "plus", kind: "chatgpt", url: upstream.url, credential: "CHATGPT_PLUS", models: ["gpt-5.5", "fake:*"], priority: 0 },
      { id: "api", kind: "openai", url: upstream.url, credential: "OPENAI_KEY", models: ["*"], priority: 1 },
    ]),
    CHATGPT_PLUS: fakeChatGptSeed("acct-browser", { expSeconds: Math.floor(Date.now() / 1000) + 86_400 }),
    CHATGPT_TOKEN_URL: upstream.tokenUrl,
    OPENAI_KEY: "sk-browser-test-upstream",
    ADMIN_KEY: adminKey,
    GATEWAY_OPEN: "off",
  });
  page = await chromium.browser.newPage();
  page.on("console", (message) => consoleLines.push(message.text()));
  await page.setViewport({ width: 1600, height: 1000 });
});

afterAll(async () => {
  await chromium?.close();
  await gateway?.close();
  await upstream?.close();
});

/** Clicks what submits a form and waits for the page the browser lands on (after any redirect). */
async function submit(selector: string): Promise<HTTPResponse> {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  if (!response) throw new Error(`submitting ${selector} loaded no page`);
  return response;
}

const textOf = (selector: string) => page.$eval(selector, (element) => element.textContent ?? "");
const count = (text: string) => Number(text.replace(/[^\d]/g, ""));

/** Reloads the dashboard until `done` holds: usage rows reach D1 in a batch shortly after each request. */
async function reloadUntil(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 200) {
    await page.goto(`${gateway.url}/admin`);
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the page never showed ${what}`);
}

it("signs in, makes a key shown once, shows its requests and tokens, edits and revokes it", async () => {
  // Not signed in: the sign-in form; a wrong key is refused with the form again.
  const first = await page.goto(`${gateway.url}/admin`);
  expect(first?.status()).toBe(200);
  await page.type("#admin-key", "not-the-admin-key");
  const wrong = await submit("#sign-in button[type=submit]");
  expect(wrong.status()).toBe(401);
  expect(await textOf(".error")).toMatch(/not the admin key/);
  expect(await page.cookies()).toEqual([]);

  await page.type("#admin-key", adminKey);
  const signedIn = await submit("#sign-in button[type=submit]");
  expect([signedIn.status(), page.url()]).toEqual([200, `${gateway.url}/admin`]);
  const headers = signedIn.headers();
  expect(headers["content-security-policy"]).toMatch(/default-src 'none'/);
  expect(headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
  expect(headers["content-security-policy"]).not.toMatch(/https?:|\*/);
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["cache-control"]).toBe("no-store");
  const [session] = await page.cookies();
  expect(session).toMatchObject({ name: "turnpike_admin", httpOnly: true, sameSite: "Strict", path: "/admin" });
  expect(await page.content()).not.toContain(adminKey);
  // The stylesheet applies: its hash is in the CSP, and the browser reported no violation.
  expect(await page.$eval("header", (element) => getComputedStyle(element).backgroundColor)).toBe("rgb(23, 32, 46)");

  // Create a key: it is on the page once, and gone on reload.
  await page.type("#create-key input[name=name]", "alice's laptop <script>");
  await page.type("#create-key input[name=models]", "gpt-5*, claude-*, fake:*");
  await page.type("#create-key input[name=requests_per_minute]", "100");
  await page.type("#create-key input[name=tokens_per_day]", "1,000,000");
  const created = await submit("#create-key button[type=submit]");
  expect(created.status()).toBe(200);
  expect(await textOf("#new-key")).toMatch(/will not be shown again/);
  const key = (await textOf("#new-key-value")).trim();
  expect(key).toMatch(/^tpk_[A-Za-z0-9]{40}$/);
  const keyId = await page.$eval("#keys-table tr[data-key-id]", (row) => row.getAttribute("data-key-id") ?? "");
  // Escaped, not markup: the name is text on the page.
  expect(await textOf(`tr[data-key-id="${keyId}"] td.name`)).toBe("alice's laptop <script>");
  await page.reload();
  expect(await page.$("#new-key")).toBeNull();
  expect(await page.content()).not.toContain(key);

  // A client uses the key: a Responses request, an Anthropic one (claude-* → gpt-5.5), and one the
  // upstream rate-limits on both accounts (a 429, and a cooldown on each).
  const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  const response = await openai.responses.create({ model: "gpt-5.5", input: "hello" });
  const claude = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
  const message = await claude.messages.create({ model: "claude-opus-4-8", max_tokens: 100, messages: [{ role: "user", content: "hello" }] });
  await expect(openai.responses.create({ model: "fake:rate-limited", input: "hello" })).rejects.toMatchObject({ status: 429 });

  await reloadUntil(async () => (await page.$$(`#recent-requests tr[data-request-id]`)).length >= 3, "the three requests");
  const rows = await page.$$eval("#recent-requests tr[data-request-id]", (trs) =>
    trs.map((tr) => Object.fromEntries([...tr.querySelectorAll("td[data-column]")].map((td) => [td.getAttribute("data-column"), td.textContent?.trim() ?? ""]))),
  );
  expect(rows.map((row) => [row.key, row.status])).toEqual([
    ["alice's laptop <script>", "429"],
    ["alice's laptop <script>", "200"],
    ["alice's laptop <script>", "200"],
  ]);
  expect(rows[1]!.model).toBe("claude-opus-4-8 → gpt-5.5");
  const usage = response.usage!;
  expect([rows[2]!.model, count(rows[2]!.input_tokens!), count(rows[2]!.output_tokens!)]).toEqual(["gpt-5.5", usage.input_tokens, usage.output_tokens]);
  const claudeInput = message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0);
  expect([count(rows[1]!.input_tokens!), count(rows[1]!.output_tokens!)]).toEqual([claudeInput, message.usage.output_tokens]);

  // The totals say the same, and the key's gate counted its tokens today.
  const inputTokens = usage.input_tokens + claudeInput;
  const outputTokens = usage.output_tokens + message.usage.output_tokens;
  expect(count(await textOf('[data-total="requests"] .value'))).toBe(3);
  expect(count(await textOf('[data-total="errors"] .value'))).toBe(1);
  expect(count(await textOf('[data-total="input_tokens"] .value'))).toBe(inputTokens);
  expect(count(await textOf('[data-total="output_tokens"] .value'))).toBe(outputTokens);
  expect(await textOf('[data-total="cost"] .value')).toMatch(/^\$0\.\d+/);
  expect(await textOf("#usage-by-key tbody")).toContain("alice's laptop <script>");
  expect(await textOf("#usage-by-model tbody")).toContain("gpt-5.5");
  await reloadUntil(async () => count(await textOf(`tr[data-key-id="${keyId}"] td[data-limit="tokens_per_day"]`)) > 1_000_000, "the gate's tokens");
  expect(await textOf(`tr[data-key-id="${keyId}"] td[data-limit="tokens_per_day"]`)).toBe(`${(inputTokens + outputTokens).toLocaleString("en-US")} / 1,000,000`);
  expect(await textOf(`tr[data-key-id="${keyId}"] td[data-limit="requests_per_minute"]`)).toBe("3 / 100");

  // The accounts: the ChatGPT one's token and usage window, each account's cooldown for the rate-limited model.
  expect(await textOf('[data-account-id="plus"]')).toMatch(/ChatGPT token\s*valid/);
  expect(await textOf('[data-account-id="plus"] [data-column="quota"]')).toMatch(/primary:\s*12% used/);
  expect(await page.$$('[data-cooldown-model="fake:rate-limited"]')).toHaveLength(2);

  mkdirSync(`${projectRoot}test-results`, { recursive: true });
  await page.screenshot({ path: screenshotPath, fullPage: true });

  // Clear one cooldown from the page.
  await submit('[data-account-id="plus"] [data-cooldown-model="fake:rate-limited"] button');
  expect(await textOf(".notice")).toMatch(/Cooldown of plus for fake:rate-limited cleared/);
  expect(await page.$$('[data-cooldown-model="fake:rate-limited"]')).toHaveLength(1);
  expect(await page.$('[data-account-id="api"] [data-cooldown-model="fake:rate-limited"]')).not.toBeNull();

  // Edit: a limit given, another taken away; the models narrowed.
  await page.click(`a[href="#edit-${keyId}"]`);
  const editForm = `#edit-${keyId} form`;
  await page.$eval(`${editForm} input[name=requests_per_minute]`, (input) => ((input as HTMLInputElement).value = ""));
  await page.type(`${editForm} input[name=requests_per_minute]`, "50");
  await page.$eval(`${editForm} input[name=tokens_per_day]`, (input) => ((input as HTMLInputElement).value = ""));
  await page.$eval(`${editForm} input[name=models]`, (input) => ((input as HTMLInputElement).value = "gpt-5.5"));
  await submit(`${editForm} button[type=submit]`);
  expect(await textOf(".notice")).toMatch(/saved/);
  expect(await textOf(`tr[data-key-id="${keyId}"] td[data-limit="requests_per_minute"]`)).toMatch(/\/ 50$/);
  expect(await textOf(`tr[data-key-id="${keyId}"] td[data-limit="tokens_per_day"]`)).toMatch(/\/ ∞$/);
  await expect(claude.messages.create({ model: "claude-opus-4-8", max_tokens: 100, messages: [{ role: "user", content: "hello" }] })).resolves.toBeDefined();
  await expect(openai.responses.create({ model: "gpt-5.4", input: "hello" })).rejects.toMatchObject({ status: 403 });

  // A form without the session's CSRF token is refused, and nothing happens.
  const cookie = (await page.cookies()).map((entry) => `${entry.name}=${entry.value}`).join("; ");
  for (const body of ["", "csrf=forged"]) {
    const forged = await fetch(`${gateway.url}/admin/ui/keys/${keyId}/revoke`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });
    expect(forged.status).toBe(403);
  }
  await expect(openai.responses.create({ model: "gpt-5.5", input: "still mine" })).resolves.toBeDefined();

  // Revoke from the page: the key's next request is a 401.
  await page.click(`tr[data-key-id="${keyId}"] details summary`);
  await submit(`tr[data-key-id="${keyId}"] form.revoke button`);
  expect(await textOf(".notice")).toMatch(/revoked: its next request is refused/);
  expect(await textOf(`tr[data-key-id="${keyId}"] [data-state="revoked"]`)).toMatch(/^revoked /);
  await expect(openai.responses.create({ model: "gpt-5.5", input: "hello" })).rejects.toMatchObject({ status: 401 });

  // The JSON API still answers the admin key as a bearer; neither lists the key itself.
  const listed = await fetch(`${gateway.url}/admin/keys`, { headers: { authorization: `Bearer ${adminKey}` } });
  expect(listed.status).toBe(200);
  const { keys } = (await listed.json()) as { keys: { id: string; revoked_at: number | null }[] };
  expect(keys.find((entry) => entry.id === keyId)?.revoked_at).toBeGreaterThan(0);
  expect(JSON.stringify(keys)).not.toContain(key);
  expect((await fetch(`${gateway.url}/admin/keys`)).status).toBe(401);

  // Sign out: the cookie is gone, and the page is the sign-in form again.
  await submit("header form button");
  expect(await page.$("#sign-in")).not.toBeNull();
  expect((await page.cookies()).filter((entry) => entry.name === "turnpike_admin")).toEqual([]);
  expect(consoleLines.filter((line) => /Content Security Policy|Refused to/i.test(line))).toEqual([]);
});
