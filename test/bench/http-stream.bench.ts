// `npm run bench`: streamed Responses requests straight to the fake upstream vs through the
// gateway (run straight in Miniflare, see start-miniflare.ts), interleaved in one run so both
// paths see the same machine state. Prints median and p99 time to first byte and total time,
// and the gateway/direct ratios. A benchmark, not a test: it asserts nothing about speed.
//
// Besides the pass-through floors, two floors that do the least this gateway's promises need
// (test/bench/floor/): a Worker that watches its stream (reads it in JavaScript to see its
// terminal event), against the stateless path; and a session's least (a Durable Object relaying
// an upstream WebSocket, sending only the new item), against growing Codex-like session turns.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { reorderKeys, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

const requests = Number(process.env.BENCH_REQUESTS ?? 300);
const warmup = 30;

// A real Codex first turn (46 KB: tools, instructions, environment) as the request body. With
// Codex's session-id header it goes through the session object — the same body every time, so
// every turn there is a full send that rewrites the retained input (the session path's worst
// case; the session benchmark measures growing turns) — and without it the stateless path.
const capture = JSON.parse(readFileSync(new URL("../fixtures/clients/codex-http-turn1-request.json", import.meta.url), "utf8"));
const sessionBody = JSON.stringify(capture.body);
const { prompt_cache_key: _key, ...stateless } = capture.body;
const statelessBody = JSON.stringify(stateless);

let upstream: FakeUpstream;
let gateway: Gateway;
/** The same gateway without its D1 database: no usage rows written (what recording them costs). */
let unrecorded: Gateway;
let passThrough: Gateway;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" });
  unrecorded = await startInMiniflare(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" }, { withoutDatabase: true });
  passThrough = await startInMiniflare(fileURLToPath(new URL("./floor/wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url });
});

afterAll(async () => {
  await gateway?.close();
  await unrecorded?.close();
  await passThrough?.close();
  await upstream?.close();
});

interface Sample {
  firstByteMs: number;
  totalMs: number;
  /** The streamed text, when asked for (a session turn builds the next one's history from it). */
  text?: string;
}

async function timeOne(url: string, body: string, headers: Record<string, string> = {}, keepText = false): Promise<Sample> {
  const started = performance.now();
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => {
    throw new Error(`bench request to ${url} failed: ${String(error)}`);
  });
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let firstByteMs = 0;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += value.byteLength;
    if (keepText) chunks.push(value);
  }
  const totalMs = performance.now() - started;
  if (response.status !== 200 || bytes === 0) throw new Error(`bench request failed: ${response.status}`);
  return { firstByteMs, totalMs, ...(keepText ? { text: Buffer.concat(chunks).toString("utf8") } : {}) };
}

/**
 * One turn of a growing Codex-like conversation per call: the whole history again, with the
 * last answer's items and a new message; a new session every 40 turns, so bodies stay Codex-sized.
 */
function sessionTurns(url: string, prefix: string): () => Promise<Sample> {
  const first = capture.body.input as unknown[];
  let history = [...first];
  let session = 0;
  let index = 0;
  return async () => {
    history.push(userMessage(`step ${index++}`));
    const sample = await timeOne(url, JSON.stringify({ ...capture.body, input: history, stream: true }), { "session-id": `${prefix}-${session}` }, true);
    for (const line of sample.text!.split("\n")) {
      if (line.startsWith("data: ") && line.includes('"response.output_item.done"')) history.push(reorderKeys(JSON.parse(line.slice(6)).item));
    }
    if (history.length > first.length + 120) {
      history = [...first];
      session += 1;
    }
    return sample;
  };
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

it(`streams ${requests} Codex-sized requests per path, against the floors`, { timeout: 900_000 }, async () => {
  const runId = Date.now();
  const paths = {
    direct: () => timeOne(`${upstream.url}/responses`, statelessBody),
    "floor: Worker": () => timeOne(`${passThrough.url}/v1/responses`, statelessBody),
    "floor: watching": () => timeOne(`${passThrough.url}/watching/v1/responses`, statelessBody),
    "gateway, stateless": () => timeOne(`${gateway.url}/v1/responses`, statelessBody),
    "floor: Worker+DO": () => timeOne(`${passThrough.url}/via-object/v1/responses`, statelessBody),
    "gateway, session": () => timeOne(`${gateway.url}/v1/responses`, sessionBody, { "session-id": "bench-session" }),
    "stateless, no usage": () => timeOne(`${unrecorded.url}/v1/responses`, statelessBody),
    "session, no usage": () => timeOne(`${unrecorded.url}/v1/responses`, sessionBody, { "session-id": "bench-session" }),
    "floor: session": sessionTurns(`${passThrough.url}/via-socket/v1/responses`, `floor-${runId}`),
    "gateway, turns": sessionTurns(`${gateway.url}/v1/responses`, `turns-${runId}`),
  };
  const names = Object.keys(paths) as (keyof typeof paths)[];
  for (let index = 0; index < warmup; index += 1) for (const name of names) await paths[name]();
  const samples = Object.fromEntries(names.map((name) => [name, [] as Sample[]])) as Record<keyof typeof paths, Sample[]>;
  for (let index = 0; index < requests; index += 1) {
    // Rotate the order, so that no path always runs first or last.
    for (let offset = 0; offset < names.length; offset += 1) {
      const name = names[(index + offset) % names.length]!;
      samples[name].push(await paths[name]());
    }
  }
  const summary = (list: Sample[]) => {
    const ttfb = list.map((sample) => sample.firstByteMs);
    const total = list.map((sample) => sample.totalMs);
    return [percentile(ttfb, 0.5), percentile(ttfb, 0.99), percentile(total, 0.5), percentile(total, 0.99)] as const;
  };
  const rows = Object.fromEntries(names.map((name) => [name, summary(samples[name])])) as unknown as Record<keyof typeof paths, readonly number[]>;
  const format = (value: number, suffix = "") => `${value.toFixed(2)}${suffix}`.padStart(10);
  const added = (name: keyof typeof paths, floor: keyof typeof paths) => (rows[name][2]! - rows[floor][2]!).toFixed(2);
  const lines = [
    `\nHTTP streaming, ${requests} requests per path (46 KB Codex body, 13 events), interleaved; ms:`,
    `path                  ttfb p50  ttfb p99 total p50 total p99   /direct`,
    ...names.map((name) => `${name.padEnd(20)}${rows[name].map((value) => format(value)).join("")}${format(rows[name][2]! / rows.direct[2]!, "x")}`),
    `added over its floor (total p50): stateless ${added("gateway, stateless", "floor: Worker")} ms over the Worker floor, session ${added("gateway, session", "floor: Worker+DO")} ms over the Worker+DO floor`,
    `the floors themselves: Worker ${added("floor: Worker", "direct")} ms, Worker+DO ${added("floor: Worker+DO", "direct")} ms over direct`,
    `over the floors that do the least these paths promise (total p50): stateless ${added("gateway, stateless", "floor: watching")} ms over the watching Worker (itself ${added("floor: watching", "floor: Worker")} over the Worker floor); growing session turns ${added("gateway, turns", "floor: session")} ms over the session floor`,
    `first to last byte (p50): ${names.map((name) => `${name} ${percentile(samples[name].map((sample) => sample.totalMs - sample.firstByteMs), 0.5).toFixed(2)}`).join(", ")}`,
    `recording usage (a D1 row per request, batched off the request path) adds (total p50): stateless ${added("gateway, stateless", "stateless, no usage")} ms, session ${added("gateway, session", "session, no usage")} ms`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
});
