// The scale run: the gateway bundled in workerd (Miniflare, as `npm run bench` runs it) in front
// of the fake upstream (WebSocket mode, one socket per session), N Codex-like HTTP sessions and
// M Responses WebSocket sessions of T turns each, all started at once (or spread over --ramp-ms).
// Every turn is checked (a 200 and a terminal event, no error frame), every later turn must be a
// delta, and the workerd process's memory is read before the run and after it, sessions idle.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { startFakeUpstream } from "../support/fake-upstream";
import { startInMiniflare } from "../support/start-miniflare";
import { WorkerLog } from "../soak/worker-log";
import { HttpConversation, loadCaptures, SocketConversation } from "./codex-conversation";
import { readHeapUsage } from "./heap-usage";
import { runHttpSession } from "./http-session";
import { cpuMilliseconds, descendantPids, openFileLimits, residentBytes } from "./process-memory";
import { checkUpstream, type UpstreamCheck } from "./upstream-check";
import { runSocketSession, type SocketSession } from "./socket-session";
import type { TurnRecord } from "./turn-record";

export interface ScaleOptions {
  sessions: number;
  websockets: number;
  turns: number;
  /** Sessions start spread evenly over this long; 0: all at once. */
  rampMs: number;
  /** A turn not ended after this long is an error. */
  deadlineMs: number;
  /** How long the sessions are left idle before their memory is read. */
  idleMs: number;
  /** Collect the isolate's garbage (by a heap snapshot) before reading its heap: slow, exact. */
  collectGarbage: boolean;
  progress(line: string): void;
}

export const defaultScaleOptions: Omit<ScaleOptions, "progress"> = {
  sessions: 1_000,
  websockets: 200,
  turns: 3,
  rampMs: 0,
  deadlineMs: 60_000,
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

export interface ScaleResult {
  options: ScaleOptions;
  records: TurnRecord[];
  /** From the first turn sent to the last turn ended. */
  elapsedMs: number;
  memory: MemoryFigures;
  /** workerd's CPU time over the run (user + system). */
  workerdCpuMs: number;
  /** This process's CPU time over the run: the clients and the fake upstream. */
  driverCpuMs: number;
  upstream: UpstreamCheck;
  /** Upstream sockets open while the sessions were idle. */
  upstreamOpenWhileIdle: number;
  workerProblems: string[];
  workerWarnings: Map<string, number>;
  fileLimits: { soft: number; hard: number };
}

const gatewayKey = "gw-scale-key-0123456789";

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
  const root = projectRoot();
  const captures = loadCaptures(root);
  const log = new WorkerLog();
  const upstream = await startFakeUpstream({ backlog: 4_096 });
  let gateway: Awaited<ReturnType<typeof startInMiniflare>> | undefined;
  const dispatcher = new Agent({
    connections: sessionCount + 16,
    headersTimeout: options.deadlineMs,
    bodyTimeout: options.deadlineMs,
    connect: { timeout: options.deadlineMs },
  });
  const sockets: SocketSession[] = [];
  try {
    gateway = await startInMiniflare(join(root, "wrangler.toml"), { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-scale-upstream", GATEWAY_KEYS: gatewayKey }, { onOutput: log.add, inspector: true });
    const pids = descendantPids("workerd");
    if (pids.length === 0) throw new Error("no workerd process found among this process's children");
    const baselineBytes = await baseline(gateway.url, dispatcher, pids, captures.httpBodyText);
    upstream.reset();
    const heapBaselineBytes = (await readHeapUsage(gateway.inspectorUrl!, { collectGarbage: options.collectGarbage })).usedBytes;
    const cpuBefore = sum(pids.map(cpuMilliseconds));
    const driverCpuBefore = process.cpuUsage();
    options.progress(`workerd ${pids.join(", ")}: ${mebibytes(baselineBytes)} resident before the run`);

    const run = randomBytes(4).toString("hex");
    let peakBytes = baselineBytes;
    const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, sum(pids.map(residentBytes)))), 250);
    const records: TurnRecord[] = [];
    const total = sessionCount * options.turns;
    const progress = setInterval(() => options.progress(`  ${records.length}/${total} turns, ${records.filter((record) => record.error).length} errors, workerd ${mebibytes(sum(pids.map(residentBytes)))}`), 5_000);
    const startedAt = performance.now();
    const starts = Array.from({ length: sessionCount }, (_, index) => (options.rampMs * index) / sessionCount);
    const httpUrl = `${gateway.url}/v1/responses`;
    const socketUrl = `${gateway.url.replace(/^http/, "ws")}/v1/responses`;
    const sessions = starts.map(async (delayMs, index) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      // HTTP and WebSocket sessions interleaved, so that a ramp starts both kinds alike.
      const socketIndex = Math.floor((index * options.websockets) / sessionCount);
      const isSocket = options.websockets > 0 && Math.floor(((index + 1) * options.websockets) / sessionCount) > socketIndex;
      const sessionId = `${run}-0000-4000-8000-${index.toString().padStart(12, "0")}`;
      if (isSocket) {
        const conversation = new SocketConversation(`ws-${index}`, sessionId, captures, gatewayKey);
        const session = await runSocketSession(conversation, { url: socketUrl, turns: options.turns, deadlineMs: options.deadlineMs });
        sockets.push(session);
        records.push(...session.records);
        return;
      }
      const conversation = new HttpConversation(`http-${index}`, sessionId, captures, gatewayKey);
      records.push(...(await runHttpSession(conversation, { url: httpUrl, dispatcher, turns: options.turns, deadlineMs: options.deadlineMs })));
    });
    await Promise.all(sessions);
    const elapsedMs = Math.max(...records.map((record) => record.startedAt + record.durationMs)) - startedAt;
    const workerdCpuMs = sum(pids.map(cpuMilliseconds)) - cpuBefore;
    const driverCpu = process.cpuUsage(driverCpuBefore);
    clearInterval(progress);
    options.progress(`  ${records.length}/${total} turns in ${(elapsedMs / 1000).toFixed(1)} s; sessions idle for ${options.idleMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    clearInterval(sampler);
    const idleBytes = sum(pids.map(residentBytes));
    if (options.collectGarbage) options.progress("  collecting the isolate's garbage (a heap snapshot)");
    const heapIdleBytes = (await readHeapUsage(gateway.inspectorUrl!, { collectGarbage: options.collectGarbage })).usedBytes;
    const upstreamOpenWhileIdle = upstream.connectionCount();
    return {
      options,
      records,
      elapsedMs,
      memory: { pids, baselineBytes, peakBytes: Math.max(peakBytes, idleBytes), idleBytes, heapBaselineBytes, heapIdleBytes },
      workerdCpuMs,
      driverCpuMs: (driverCpu.user + driverCpu.system) / 1000,
      upstream: checkUpstream(upstream, records),
      upstreamOpenWhileIdle,
      workerProblems: log.problems().map(({ problem }) => problem),
      workerWarnings: log.warnings(),
      fileLimits,
    };
  } finally {
    for (const socket of sockets) socket.close();
    await dispatcher.close();
    await gateway?.close();
    await upstream.close();
  }
}

/**
 * workerd's memory once it has loaded the Worker and served requests that hold no session (the
 * script's compile and the isolate are the same for any number of sessions): a health check and
 * the captured turn sent stateless (no session header).
 */
async function baseline(url: string, dispatcher: Agent, pids: number[], bodyText: string): Promise<number> {
  const health = await request(`${url}/health`, { dispatcher });
  await health.body.text();
  const { prompt_cache_key: _session, ...statelessBody } = JSON.parse(bodyText) as Record<string, unknown>;
  const stateless = await request(`${url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${gatewayKey}`, "content-type": "application/json" },
    body: JSON.stringify(statelessBody),
    dispatcher,
  });
  const text = await stateless.body.text();
  if (stateless.statusCode !== 200 || !text.includes("response.completed")) throw new Error(`the warm-up turn failed: HTTP ${stateless.statusCode} ${text.slice(0, 200)}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return sum(pids.map(residentBytes));
}

export function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
