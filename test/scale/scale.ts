// The scale run: the gateway bundled in workerd (Miniflare, as `npm run bench` runs it) in front
// of the fake upstream (WebSocket mode, one socket per session), N Codex-like HTTP sessions and
// M Responses WebSocket sessions of T turns each, all started at once (or spread over --ramp-ms,
// or C at a time). Every turn is checked (a 200 and a terminal event, no error frame), every
// later turn must be a delta, and the workerd process's memory is read before the run and after
// it, sessions idle. With `url` the same sessions go to a gateway already running (`npm start`):
// then only what a client sees is checked.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { startFakeUpstream } from "../support/fake-upstream";
import { startInMiniflare } from "../support/start-miniflare";
import { WorkerLog } from "../soak/worker-log";
import { loadCaptures } from "./codex-conversation";
import { driveSessions, type DriveOptions, type Driven } from "./drive-sessions";
import { readHeapUsage } from "./heap-usage";
import { cpuMilliseconds, descendantPids, openFileLimits, residentBytes } from "./process-memory";
import { checkUpstream, type UpstreamCheck } from "./upstream-check";
import type { TurnRecord } from "./turn-record";

export interface ScaleOptions extends DriveOptions {
  /** How long the sessions are left idle before their memory is read. */
  idleMs: number;
  /** Collect the isolate's garbage (by a heap snapshot) before reading its heap: slow, exact. */
  collectGarbage: boolean;
  /** A gateway already running (e.g. `npm start`) instead of one started here. */
  url?: string | undefined;
  /** The key for `url` (none needed by an open gateway). */
  key?: string | undefined;
  progress(line: string): void;
}

export const defaultScaleOptions: Omit<ScaleOptions, "progress"> = {
  sessions: 1_000,
  websockets: 200,
  turns: 3,
  thinkMs: 0,
  keepAlive: false,
  rampMs: 0,
  concurrency: 0,
  deadlineMs: 120_000,
  idleMs: 5_000,
  collectGarbage: false,
};

export interface MemoryFigures {
  pids: number[];
  baselineBytes: number;
  peakBytes: number;
  idleBytes: number;
  /** The Worker isolate's JavaScript heap in use, before and idle (garbage included unless collected). */
  heapBaselineBytes: number;
  heapIdleBytes: number;
}

/** What only a gateway started here shows: its process, its log, and the upstream's side. */
export interface LocalFigures {
  memory: MemoryFigures;
  /** workerd's CPU time over the run (user + system). */
  workerdCpuMs: number;
  upstream: UpstreamCheck;
  /** Upstream sockets open while the sessions were idle. */
  upstreamOpenWhileIdle: number;
  workerProblems: string[];
  workerWarnings: Map<string, number>;
}

export interface ScaleResult {
  options: ScaleOptions;
  records: TurnRecord[];
  /** From the first turn sent to the last turn ended. */
  elapsedMs: number;
  /** This process's CPU time over the run: the clients (and the fake upstream, when local). */
  driverCpuMs: number;
  fileLimits: { soft: number; hard: number };
  local: LocalFigures | undefined;
}

const localGatewayKey = "gw-scale-key-0123456789";

/** The project's root, found upwards from here (the command runs a bundle elsewhere). */
export function projectRoot(): string {
  for (let folder = dirname(fileURLToPath(import.meta.url)); ; folder = dirname(folder)) {
    if (existsSync(join(folder, "wrangler.toml"))) return folder;
    if (dirname(folder) === folder) throw new Error("wrangler.toml not found above the scale run");
  }
}

export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const sessionCount = options.sessions + options.websockets;
  const fileLimits = openFileLimits();
  // This process holds each session's client connection and the fake upstream's end of its socket.
  const neededFiles = 2 * sessionCount + 256;
  if (fileLimits.soft < neededFiles) {
    throw new Error(`open files limited to ${fileLimits.soft} (ulimit -n), ${neededFiles} needed: raise it (npm run bench:scale raises it to the hard limit, ${fileLimits.hard})`);
  }
  const dispatcher = new Agent({
    connections: sessionCount + 16,
    // With --keep-alive: workerd closes a client connection 5 s after its last response
    // (measured); undici's default 4 s, on its coarse timers, is too close to that.
    keepAliveTimeout: 1_000,
    keepAliveMaxTimeout: 1_000,
    headersTimeout: options.deadlineMs,
    bodyTimeout: options.deadlineMs,
    connect: { timeout: options.deadlineMs },
  });
  const driverCpuBefore = process.cpuUsage();
  const driverCpuMs = () => {
    const used = process.cpuUsage(driverCpuBefore);
    return (used.user + used.system) / 1000;
  };
  try {
    if (options.url) {
      const url = options.url.replace(/\/$/, "");
      const driven = await drive(url, options.key ?? "", dispatcher, options);
      for (const socket of driven.sockets) socket.close();
      return { options, records: driven.records, elapsedMs: driven.elapsedMs, driverCpuMs: driverCpuMs(), fileLimits, local: undefined };
    }
    const { driven, local } = await runLocal(dispatcher, options);
    return { options, records: driven.records, elapsedMs: driven.elapsedMs, driverCpuMs: driverCpuMs(), fileLimits, local };
  } finally {
    await dispatcher.close();
  }
}

function drive(url: string, key: string, dispatcher: Agent, options: ScaleOptions, residentNow?: () => number): Promise<Driven> {
  const total = (options.sessions + options.websockets) * options.turns;
  return driveSessions(url, key, loadCaptures(projectRoot()), dispatcher, options, (records) =>
    options.progress(
      `  ${records.length}/${total} turns, ${records.filter((record) => record.error).length} errors` +
        (residentNow ? `, workerd ${mebibytes(residentNow())}` : ""),
    ),
  );
}

async function runLocal(dispatcher: Agent, options: ScaleOptions): Promise<{ driven: Driven; local: LocalFigures }> {
  const log = new WorkerLog();
  const upstream = await startFakeUpstream({ backlog: 4_096 });
  let gateway: Awaited<ReturnType<typeof startInMiniflare>> | undefined;
  let driven: Driven | undefined;
  try {
    const variables = { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-scale-upstream", GATEWAY_KEYS: localGatewayKey };
    gateway = await startInMiniflare(join(projectRoot(), "wrangler.toml"), variables, { onOutput: log.add, inspector: true });
    const pids = descendantPids("workerd");
    if (pids.length === 0) throw new Error("no workerd process found among this process's children");
    const resident = () => sum(pids.map(residentBytes));
    await warmUp(gateway.url, dispatcher);
    upstream.reset();
    const baselineBytes = resident();
    const heapBaselineBytes = (await readHeapUsage(gateway.inspectorUrl!, { collectGarbage: options.collectGarbage })).usedBytes;
    const cpuBefore = sum(pids.map(cpuMilliseconds));
    options.progress(`workerd ${pids.join(", ")}: ${mebibytes(baselineBytes)} resident before the run`);
    let peakBytes = baselineBytes;
    const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, resident())), 250);
    driven = await drive(gateway.url, localGatewayKey, dispatcher, options, resident);
    const workerdCpuMs = sum(pids.map(cpuMilliseconds)) - cpuBefore;
    options.progress(`  ${driven.records.length} turns in ${(driven.elapsedMs / 1000).toFixed(1)} s; sessions idle for ${options.idleMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    clearInterval(sampler);
    const idleBytes = resident();
    const upstreamOpenWhileIdle = upstream.connectionCount();
    if (options.collectGarbage) options.progress("  collecting the isolate's garbage (a heap snapshot)");
    const heapIdleBytes = (await readHeapUsage(gateway.inspectorUrl!, { collectGarbage: options.collectGarbage })).usedBytes;
    const local: LocalFigures = {
      memory: { pids, baselineBytes, peakBytes: Math.max(peakBytes, idleBytes), idleBytes, heapBaselineBytes, heapIdleBytes },
      workerdCpuMs,
      upstream: checkUpstream(upstream, driven.records),
      upstreamOpenWhileIdle,
      workerProblems: log.problems().map(({ problem }) => problem),
      workerWarnings: log.warnings(),
    };
    return { driven, local };
  } finally {
    for (const socket of driven?.sockets ?? []) socket.close();
    await gateway?.close();
    await upstream.close();
  }
}

/**
 * Before the baseline: the Worker loaded and requests served that hold no session (the script's
 * compile and the isolate are the same for any number of sessions): a health check and the
 * captured turn sent stateless (no session header), then a second for things to settle.
 */
async function warmUp(url: string, dispatcher: Agent): Promise<void> {
  const health = await request(`${url}/health`, { dispatcher });
  await health.body.text();
  const { prompt_cache_key: _session, ...statelessBody } = JSON.parse(loadCaptures(projectRoot()).httpBodyText) as Record<string, unknown>;
  const stateless = await request(`${url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${localGatewayKey}`, "content-type": "application/json" },
    body: JSON.stringify(statelessBody),
    dispatcher,
  });
  const text = await stateless.body.text();
  if (stateless.statusCode !== 200 || !text.includes("response.completed")) throw new Error(`the warm-up turn failed: HTTP ${stateless.statusCode} ${text.slice(0, 200)}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}

export function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
