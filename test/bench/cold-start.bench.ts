// `npm run bench`: cold starts. Each sample starts a fresh workerd (Miniflare) holding one
// Worker's bundle and times, from `new Miniflare` on, its first answer — what a script's size
// costs before anything is served (workerd compiles and runs a Worker's top level as it starts).
// The kinds take turns, so all see the same machine state. The floor is the pass-through Worker
// of test/bench/floor/: starting workerd itself. The gateway runs without its tokenizer Worker
// (a deployment starts each Worker on its own) and without D1 (no key or usage queries in the
// first answer); `gateway + tokenizer` starts both, for a first count_tokens.
// A benchmark, not a test: it asserts nothing about speed.
import { Miniflare, type MiniflareOptions } from "miniflare";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { workerdOptions, workerScript } from "../support/start-miniflare";

const starts = Number(process.env.BENCH_COLD_STARTS ?? 15);

const gatewayConfig = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const tokenizerConfig = fileURLToPath(new URL("../../tokenizer.wrangler.toml", import.meta.url));
const floorConfig = fileURLToPath(new URL("./floor/wrangler.toml", import.meta.url));

const codexTurn = JSON.parse(readFileSync(new URL("../fixtures/clients/codex-http-turn1-request.json", import.meta.url), "utf8"));
// Without its prompt_cache_key: the stateless path, no session object.
const { prompt_cache_key: _key, ...statelessBody } = codexTurn.body;
const claudeTurn = JSON.parse(readFileSync(new URL("../fixtures/clients/claude-messages-turn1.json", import.meta.url), "utf8"));

interface Kind {
  options: MiniflareOptions;
  /** The Workers' configurations, for their script sizes. */
  configs: string[];
  request: { path: string; method?: string; body?: unknown };
}

let upstream: FakeUpstream;
let kinds: Record<string, Kind>;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  const variables = { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" };
  const gateway = await workerdOptions(gatewayConfig, variables, { withoutDatabase: true, withoutServices: true });
  kinds = {
    "floor: Worker": { options: await workerdOptions(floorConfig, { UPSTREAM_URL: upstream.url }), configs: [floorConfig], request: { path: "/v1/responses", body: statelessBody } },
    "gateway /health": { options: gateway, configs: [gatewayConfig], request: { path: "/health" } },
    "gateway /v1/responses": { options: gateway, configs: [gatewayConfig], request: { path: "/v1/responses", body: statelessBody } },
    "tokenizer alone": { options: await workerdOptions(tokenizerConfig, {}), configs: [tokenizerConfig], request: { path: "/" } },
    "gateway + tokenizer": {
      options: await workerdOptions(gatewayConfig, variables, { withoutDatabase: true }),
      configs: [gatewayConfig, tokenizerConfig],
      request: { path: "/v1/messages/count_tokens", body: claudeTurn.body },
    },
  };
});

afterAll(async () => {
  await upstream?.close();
});

interface Sample {
  readyMs: number;
  answerMs: number;
}

async function coldStart(kind: Kind): Promise<Sample> {
  const started = performance.now();
  const miniflare = new Miniflare(kind.options);
  try {
    const url = (await miniflare.ready).toString().replace(/\/$/, "");
    const readyMs = performance.now() - started;
    const { path, body } = kind.request;
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    const expected = path === "/" ? 404 : 200;
    if (response.status !== expected) throw new Error(`cold start: ${path} answered ${response.status}: ${text.slice(0, 200)}`);
    return { readyMs, answerMs: performance.now() - started };
  } finally {
    await miniflare.dispose();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Each Worker's script as Miniflare runs it (minified), and gzipped. */
async function scriptSizes(configs: string[]): Promise<string> {
  const sizes = [];
  for (const config of configs) {
    const script = await workerScript(config);
    sizes.push(`${(script.length / 1024).toFixed(0)} KiB (${(gzipSync(script).length / 1024).toFixed(0)} KiB gzipped)`);
  }
  return sizes.join(" + ");
}

it(`starts each Worker ${starts} times in a fresh workerd`, { timeout: 900_000 }, async () => {
  const names = Object.keys(kinds);
  // One start of each first: the workerd binary and the page cache are warm for every kind alike.
  for (const name of names) await coldStart(kinds[name]!);
  const samples = Object.fromEntries(names.map((name) => [name, [] as Sample[]]));
  for (let index = 0; index < starts; index += 1) {
    for (let offset = 0; offset < names.length; offset += 1) {
      const name = names[(index + offset) % names.length]!;
      samples[name]!.push(await coldStart(kinds[name]!));
    }
  }
  const format = (value: number) => value.toFixed(0).padStart(9);
  const floor = median(samples["floor: Worker"]!.map((sample) => sample.answerMs));
  const sizes = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await scriptSizes(kinds[name]!.configs)] as const)));
  const lines = [
    `\nCold start, ${starts} fresh workerd starts per kind, interleaved; median ms from new Miniflare to workerd ready and to the first answer read:`,
    `kind                        ready   answer  over floor  script`,
    ...names.map((name) => {
      const list = samples[name]!;
      const answer = median(list.map((sample) => sample.answerMs));
      return `${name.padEnd(24)}${format(median(list.map((sample) => sample.readyMs)))}${format(answer)}${format(answer - floor).padStart(12)}  ${sizes[name]}`;
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
});
