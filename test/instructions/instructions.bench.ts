// `npm run bench:instructions`: the instructions workerd runs per turn, counted by valgrind's
// callgrind, for the session turns and the floors beside them. A count does not move with a busy
// or a faster machine as CPU time does (the CPU bench's ±0.5 ms), so a change of a few percent in
// one part of a turn shows here where it is lost in noise there. It is slow (the workerd under
// valgrind runs ~50× slower; ~3 minutes in all) and needs valgrind, so `npm run bench` does not run it.
//
// Each path: a workerd under callgrind, 20 turns to warm up, then BENCH_INSTRUCTIONS_TURNS (40)
// measured turns, the counts of all its threads read with `callgrind_control -e` before and
// after. With BENCH_INSTRUCTIONS_DUMP=<folder>, each path's measured turns are also dumped there
// (`callgrind_annotate <file>` shows which functions of workerd and V8 ran them; the Worker's
// own JavaScript is JIT code, unnamed: the inspector's CPU profile names it).
//
// The gateway runs without its D1 database (as the CPU bench explains), then once with it. Counts
// are repeatable for the floors (the same to 0.01 M), but the gateway's move by ~5% between runs
// (~10% with the machine loaded): timers, and when V8 collects garbage, follow the clock.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { capturedRequest, postTurn } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { processIdsWhere } from "../support/processes";
import { startInMiniflare, type MiniflareGateway, type MiniflareOptions } from "../support/start-miniflare";
import { connectResponsesSocket } from "../support/ws-client";
import { loadCaptures, SocketConversation } from "../scale/codex-conversation";
import { codexSessionTurns, socketSessionTurns } from "../bench/session-turns";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const turns = Number(process.env.BENCH_INSTRUCTIONS_TURNS ?? 40);
/** BENCH_INSTRUCTIONS_ONLY=session-http,floor-session: only the paths named (as their dumps are; see `paths`). */
const only = process.env.BENCH_INSTRUCTIONS_ONLY?.split(",");
const dumpFolder = process.env.BENCH_INSTRUCTIONS_DUMP ? resolve(process.env.BENCH_INSTRUCTIONS_DUMP) : undefined;
let upstream: FakeUpstream;
let wrapperFolder: string;

beforeAll(async () => {
  try {
    execFileSync("valgrind", ["--version"]);
  } catch {
    throw new Error("valgrind is not installed (apt-get install -y valgrind)");
  }
  upstream = await startFakeUpstream();
  // Miniflare starts the workerd it is told to: a script that starts it under callgrind.
  const workerd = createRequire(createRequire(import.meta.url).resolve("miniflare"))("workerd").default as string;
  wrapperFolder = mkdtempSync(join(tmpdir(), "turnpike-callgrind-"));
  if (dumpFolder) mkdirSync(dumpFolder, { recursive: true });
  const output = join(dumpFolder ?? wrapperFolder, "callgrind.%p.out");
  const wrapper = join(wrapperFolder, "workerd");
  writeFileSync(wrapper, `#!/bin/sh\nexec valgrind --tool=callgrind --quiet --smc-check=all-non-file --callgrind-out-file=${output} ${workerd} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
});
afterAll(async () => {
  delete process.env.MINIFLARE_WORKERD_PATH;
  await upstream?.close();
  if (wrapperFolder) rmSync(wrapperFolder, { recursive: true, force: true });
});

/** The valgrind processes running a workerd (valgrind runs the program in its own process). */
function callgrindPids(): Set<number> {
  return processIdsWhere((pid) => {
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return command.includes("--tool=callgrind") && command.includes("workerd");
  });
}

/** Instructions run so far by every thread of the process. */
function instructions(pid: number): number {
  const report = execFileSync("callgrind_control", ["-e", String(pid)], { encoding: "utf8" });
  const counts = [...report.matchAll(/Th \d+\s+([\d,]+)/g)].map((match) => Number(match[1]!.replaceAll(",", "")));
  if (counts.length === 0) throw new Error(`callgrind_control printed no counts: ${report}`);
  return counts.reduce((sum, count) => sum + count, 0);
}

async function withWorker<T>(config: string, variables: Record<string, string>, run: (gateway: MiniflareGateway, pid: number) => Promise<T>, options: MiniflareOptions = {}): Promise<T> {
  const before = callgrindPids();
  const gateway = await startInMiniflare(fileURLToPath(new URL(config, import.meta.url)), variables, options);
  try {
    const pid = [...callgrindPids()].find((candidate) => !before.has(candidate));
    if (pid === undefined) throw new Error("the workerd under callgrind was not found");
    return await run(gateway, pid);
  } finally {
    await gateway.close();
  }
}

/** Millions of instructions per call of `one`, after a warm-up. */
async function perTurn(pid: number, name: string, one: (index: number) => Promise<void>): Promise<number> {
  for (let index = 0; index < 20; index += 1) await one(index);
  if (dumpFolder) execFileSync("callgrind_control", ["--zero", String(pid)]);
  const before = instructions(pid);
  for (let index = 0; index < turns; index += 1) await one(20 + index);
  const after = instructions(pid);
  if (dumpFolder) execFileSync("callgrind_control", [`--dump=${name}`, String(pid)]);
  return (after - before) / turns / 1e6;
}

interface MeasuredPath {
  /** As BENCH_INSTRUCTIONS_ONLY names it, and its dump. */
  name: string;
  label: string;
  config: string;
  options?: MiniflareOptions;
  /** What one turn is, given the Worker's addresses. */
  turn(gateway: MiniflareGateway): Promise<(index: number) => Promise<void>>;
}

it(`instructions per turn in the gateway's workerd (${turns} turns per path)`, { timeout: 1_800_000 }, async () => {
  const { body: codex } = capturedRequest("codex-http-turn1-request.json");
  const { prompt_cache_key: _key, ...stateless } = codex;
  const sessionId = `instructions-${Date.now()}`;
  const floor = "../bench/floor/wrangler.toml";
  const gatewayConfig = "../../wrangler.toml";
  // The gateway without D1 (see the top), and the client's sockets on its own socket, as deployed.
  const gatewayOnly: MiniflareOptions = { withoutDatabase: true, directSocket: true };
  const socketTurns = async (url: string, name: string) => {
    const conversation = new SocketConversation("bench", `${sessionId}-${name}`, loadCaptures(projectRoot), "bench");
    return socketSessionTurns(await connectResponsesSocket(`${url.replace(/^http/, "ws")}/v1/responses`, conversation.headers), conversation);
  };
  const paths: MeasuredPath[] = [
    { name: "floor-watching", label: "floor: a Worker watching its stream (stateless body)", config: floor, turn: async (worker) => async () => void (await postTurn(`${worker.url}/watching/v1/responses`, { ...stateless, stream: true }, {})) },
    { name: "floor-session", label: "floor: a session's least (Worker + DO relaying an upstream WebSocket, Codex-like turns)", config: floor, turn: async (worker) => codexSessionTurns(`${worker.url}/via-socket/v1/responses`, codex, `${sessionId}-floor`) },
    { name: "stateless", label: "gateway, stateless Responses", config: gatewayConfig, options: gatewayOnly, turn: async (worker) => async () => void (await postTurn(`${worker.url}/v1/responses`, { ...stateless, stream: true }, {})) },
    { name: "session-http", label: "gateway, session turn over HTTP (Codex-like, delta)", config: gatewayConfig, options: gatewayOnly, turn: async (worker) => codexSessionTurns(`${worker.url}/v1/responses`, codex, `${sessionId}-http`) },
    { name: "session-socket", label: "gateway, session turn over a client WebSocket (chained; as deployed: not deflated)", config: gatewayConfig, options: gatewayOnly, turn: (worker) => socketTurns(worker.directUrl!, "socket") },
    { name: "session-socket-entry", label: "the same through Miniflare's entry Worker (which deflates every event)", config: gatewayConfig, options: gatewayOnly, turn: (worker) => socketTurns(worker.url, "socket-entry") },
    // With D1, which Miniflare runs in the same process: a usage row per turn, and the local
    // simulator's SQLite work for it (on Cloudflare, D1's servers do that work).
    { name: "session-http-d1", label: "gateway with D1 in the same process, session turn over HTTP", config: gatewayConfig, turn: async (worker) => codexSessionTurns(`${worker.url}/v1/responses`, codex, `${sessionId}-d1`) },
  ];
  const variables = { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" };
  const rows: [string, number][] = [];
  // Each path in a workerd of its own: work an earlier path left behind (idle alarms, a major
  // garbage collection of its sessions) once counted 22 M a turn into the next.
  for (const path of paths) {
    if (only && !only.includes(path.name)) continue;
    rows.push([path.label, await withWorker(path.config, variables, async (worker, pid) => perTurn(pid, path.name, await path.turn(worker)), path.options)]);
  }

  const lines = [`\nInstructions per turn in workerd (callgrind, all threads; ${turns} turns each after 20; millions):`];
  for (const [name, count] of rows) lines.push(`  ${count.toFixed(2).padStart(6)}  ${name}`);
  process.stdout.write(`${lines.join("\n")}\n`);
});
