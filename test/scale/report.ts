// The scale run's figures as printed, and whether it passed: no failed turn, every later turn a
// delta (HTTP: `x-turnpike-turn: delta`; WebSocket: the upstream saw `previous_response_id`),
// one upstream socket per session, nothing the Worker logged as its own error. Against a gateway
// not started here (`--url`), only what the clients see.
import { loadavg } from "node:os";
import { mebibytes, type LocalFigures, type ScaleResult } from "./scale";
import { summarise, type LatencySummary, type TurnRecord } from "./turn-record";

export interface ScaleReport {
  text: string;
  failed: boolean;
}

export function buildReport(result: ScaleResult): ScaleReport {
  const { options, records, local } = result;
  const sessionCount = options.sessions + options.websockets;
  const expectedTurns = sessionCount * options.turns;
  const errors = records.filter((record) => record.error);
  const completed = records.length - errors.length;
  const notRun = expectedTurns - records.length;
  const http = records.filter((record) => record.transport === "http");
  const httpLater = http.filter((record) => record.turn >= 2 && !record.error);
  const httpDeltas = httpLater.filter((record) => record.turnKind === "delta");
  const restarted = errors.filter((record) => record.error?.includes(wranglerRestartMessage));
  const started = options.concurrency > 0 && options.concurrency < sessionCount ? `${options.concurrency} at a time`
    : options.rampMs > 0 ? `started over ${options.rampMs} ms` : "all started at once";
  const where = options.url ? `the gateway at ${options.url}` : "the gateway in workerd (Miniflare), the fake upstream in this process";
  const lines = [
    `Scale: ${options.sessions} HTTP sessions + ${options.websockets} WebSocket sessions × ${options.turns} turns, ${started}` +
      `${options.thinkMs > 0 ? `, ${options.thinkMs} ms between turns` : ""}; HTTP turns ${options.keepAlive ? "on pooled keep-alive connections" : "each on a new connection"}; ${where}.`,
    `machine: load average ${loadavg().map((value) => value.toFixed(2)).join(", ")} (after the run); open files ${result.fileLimits.soft} (ulimit -n)`,
    "",
    `turns: ${completed} completed of ${expectedTurns} in ${(result.elapsedMs / 1000).toFixed(1)} s → ${(completed / (result.elapsedMs / 1000)).toFixed(0)} turns/s` +
      `; ${errors.length} errors${notRun > 0 ? `, ${notRun} not run (their session had failed)` : ""}` +
      (restarted.length > 0 ? `; ${restarted.length} of them wrangler's 503 "${wranglerRestartMessage}"` : ""),
    local
      ? `later turns as deltas: HTTP ${httpDeltas.length}/${httpLater.length} (x-turnpike-turn: delta; upstream saw previous_response_id: ` +
        `${local.upstream.laterTurns.httpChained}/${local.upstream.laterTurns.http}), WebSocket ${local.upstream.laterTurns.websocketChained}/${local.upstream.laterTurns.websocket} (upstream saw previous_response_id)`
      : `later turns as deltas: HTTP ${httpDeltas.length}/${httpLater.length} (x-turnpike-turn: delta); WebSocket not checked (the upstream is not this run's)`,
    "",
    "per turn, ms          count      p50      p99      max",
    latencyLine("HTTP turn 1", http.filter((record) => record.turn === 1)),
    latencyLine(`HTTP turns 2–${options.turns}`, http.filter((record) => record.turn >= 2)),
    latencyLine("HTTP all", http),
    latencyLine("WebSocket turn 1", records.filter((record) => record.transport === "websocket" && record.turn === 1)),
    latencyLine(`WebSocket turns 2–${options.turns}`, records.filter((record) => record.transport === "websocket" && record.turn >= 2)),
    latencyLine("WebSocket all", records.filter((record) => record.transport === "websocket")),
    "",
    ...(local ? localLines(local, sessionCount, options.idleMs, options.collectGarbage, completed) : []),
    `this process (clients${local ? " and fake upstream" : ""}): ${(result.driverCpuMs / 1000).toFixed(1)} s CPU`,
  ];
  if (errors.length > 0) lines.push("", "Errors:", ...grouped(errors.map((record) => `${record.transport} turn ${record.turn}: ${record.error}`), errors, 5));
  const fullTurns = httpLater.filter((record) => record.turnKind !== "delta");
  if (fullTurns.length > 0) {
    lines.push("", "HTTP later turns sent in full:", ...grouped(fullTurns.map((record) => `x-turnpike-full-reason: ${record.fullReason ?? "(none)"}`), fullTurns, 5));
  }
  const upstream = local?.upstream;
  if (upstream && upstream.unchained.length > 0) lines.push("", "Later turns the upstream did not see chained once:", ...upstream.unchained.slice(0, 10).map((line) => `  ${line}`));
  if (upstream && upstream.sessionsOnSeveralSockets.size > 0) {
    lines.push("", "Sessions on several upstream sockets:", ...[...upstream.sessionsOnSeveralSockets].slice(0, 10).map(([session, count]) => `  ${session}: ${count}`));
  }
  if (local && local.workerProblems.length > 0) lines.push("", `The Worker logged ${local.workerProblems.length} errors:`, ...countLines(local.workerProblems).slice(0, 10));
  if (local && local.workerWarnings.size > 0) lines.push("", "The Worker's warnings:", ...[...local.workerWarnings].map(([message, count]) => `  ${count}× ${message}`));
  const failed =
    errors.length > 0 || notRun > 0 || fullTurns.length > 0 ||
    (local !== undefined &&
      (local.upstream.unchained.length > 0 || local.upstream.sessionsOnSeveralSockets.size > 0 || local.upstream.socketsOpened !== sessionCount || local.workerProblems.length > 0));
  lines.push("", failed ? "FAILED" : `OK: 0 errors, every later turn a delta${local ? ", one upstream socket per session" : ""}`);
  return { text: lines.join("\n"), failed };
}

/** wrangler dev's proxy Worker answers so when its fetch of the Worker fails (docs/performance.md, "Scale"). */
export const wranglerRestartMessage = "Your worker restarted mid-request";

function localLines(local: LocalFigures, sessionCount: number, idleMs: number, collected: boolean, completed: number): string[] {
  const { memory, upstream } = local;
  const perSession = (bytes: number) => `${(bytes / sessionCount / 1024).toFixed(0)} KiB per idle session`;
  return [
    `upstream sockets: ${upstream.socketsOpened} opened for ${sessionCount} sessions, ${local.upstreamOpenWhileIdle} open while idle; ` +
      `sessions on more than one: ${upstream.sessionsOnSeveralSockets.size}; requests over HTTP: ${upstream.httpRequests}`,
    `workerd memory (VmRSS, pid ${memory.pids.join(", ")}): ${mebibytes(memory.baselineBytes)} before, peak ${mebibytes(memory.peakBytes)}, ` +
      `${mebibytes(memory.idleBytes)} after ${idleMs / 1000} s idle → ${perSession(memory.idleBytes - memory.baselineBytes)}`,
    `  of which the Worker's JavaScript heap (inspector, ${collected ? "after a full collection" : "garbage included"}): ` +
      `${mebibytes(memory.heapBaselineBytes)} before, ${mebibytes(memory.heapIdleBytes)} idle → ${perSession(memory.heapIdleBytes - memory.heapBaselineBytes)}`,
    `workerd CPU: ${(local.workerdCpuMs / 1000).toFixed(1)} s over the run, ${(local.workerdCpuMs / Math.max(1, completed)).toFixed(1)} ms per turn`,
  ];
}

function latencyLine(label: string, records: TurnRecord[]): string {
  const summary: LatencySummary = summarise(records.filter((record) => !record.error).map((record) => record.durationMs));
  const cell = (value: number) => (Number.isNaN(value) ? "—" : value.toFixed(1)).padStart(9);
  return `${label.padEnd(20)}${String(summary.count).padStart(7)}${cell(summary.p50)}${cell(summary.p99)}${cell(summary.max)}`;
}

/** Messages by count (numbers in them folded, so that alike failures group), each with sessions as examples. */
function grouped(messages: string[], records: TurnRecord[], examples: number): string[] {
  const groups = new Map<string, string[]>();
  messages.forEach((message, index) => {
    const key = message.replace(/\d+/g, "N");
    groups.set(key, [...(groups.get(key) ?? []), `${records[index]!.session}: ${message}`]);
  });
  return [...groups.values()]
    .sort((a, b) => b.length - a.length)
    .flatMap((group) => [`  ${group.length}×`, ...group.slice(0, examples).map((line) => `    ${line}`)]);
}

function countLines(messages: string[]): string[] {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(message, (counts.get(message) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([message, count]) => `  ${count}× ${message}`);
}


