// Counts the soak's findings per fault kind and per path, prints the tables, and lists every
// finding with what a fix needs: the turn (seed + conversation), what the client saw, what the
// upstream saw and what the Worker logged.
import { faultKinds, pathNames, paths, type Path, type TurnKind } from "./fault-kinds";
import { faultFired, type TurnRecord } from "./turn-record";
import { WorkerLog, type LogLine } from "./worker-log";

export const columns = ["hung", "bad terminal", "foreign", "poisoned", "gateway errors"] as const;
export type Column = (typeof columns)[number];

interface Row {
  name: string;
  turns: number;
  fired: number;
  counts: Record<Column, number>;
  /** Poisoned sessions are counted once per session. */
  poisonedSessions: Set<string>;
}

export interface Finding {
  column: Column;
  record: TurnRecord | undefined;
  problem: string;
  log: LogLine[];
}

export interface SoakReport {
  text: string;
  findings: Finding[];
  /** The counts per fault kind (and "worker log, no turn"), as in the first table. */
  byKind: Record<string, Record<Column, number>>;
  totals: Record<Column, number> & { turns: number };
  failed: boolean;
}

function emptyRow(name: string): Row {
  return { name, turns: 0, fired: 0, counts: { hung: 0, "bad terminal": 0, foreign: 0, poisoned: 0, "gateway errors": 0 }, poisonedSessions: new Set() };
}

/** The findings of one turn, its Worker log lines included. */
function findingsOf(record: TurnRecord, log: WorkerLog): Finding[] {
  const lines = log.forRequest(record.requestId);
  const verdict = record.verdict;
  const found: Finding[] = [];
  if (verdict.hung) found.push({ column: "hung", record, problem: verdict.outcome, log: lines });
  if (verdict.badTerminal) found.push({ column: "bad terminal", record, problem: verdict.badTerminal, log: lines });
  if (verdict.foreign) found.push({ column: "foreign", record, problem: verdict.foreign, log: lines });
  if (record.poisoned) {
    const why = verdict.hung ? "hung" : (verdict.foreign ?? verdict.badTerminal ?? verdict.outcome);
    found.push({ column: "poisoned", record, problem: `a normal turn after the fault failed: ${why}`, log: lines });
  }
  const logged = lines.map((line) => WorkerLog.problem(line)).filter((problem): problem is string => problem !== undefined);
  const gatewayError = [verdict.gatewayError, ...logged].filter(Boolean).join("; ");
  if (gatewayError) found.push({ column: "gateway errors", record, problem: gatewayError, log: lines });
  return found;
}

/** `slowMs`: normal turns slower than this (the idle limit) are listed, not counted. */
export function buildReport(records: TurnRecord[], log: WorkerLog, header: string[], slowMs: number): SoakReport {
  const byKind = new Map<TurnKind, Row>([["none", emptyRow("none")], ...faultKinds.map((kind) => [kind, emptyRow(kind)] as const)]);
  const byPath = new Map<Path, Row>(paths.map((path) => [path, emptyRow(pathNames[path])]));
  const unattributed = emptyRow("worker log, no turn");
  const total = emptyRow("total");
  const findings: Finding[] = [];
  const attributedIds = new Set<string>();

  for (const record of records) {
    if (record.requestId) attributedIds.add(record.requestId);
    const own = byKind.get(record.turn.fault.kind)!;
    const pathRow = byPath.get(record.path)!;
    for (const row of [own, pathRow, total]) {
      row.turns += 1;
      if (faultFired(record)) row.fired += 1;
    }
    for (const finding of findingsOf(record, log)) {
      findings.push(finding);
      for (const row of [byKind.get(record.attributedTo)!, pathRow, total]) {
        if (finding.column === "poisoned") {
          if (!row.poisonedSessions.has(record.conversationId)) row.counts.poisoned += 1;
          row.poisonedSessions.add(record.conversationId);
        } else {
          row.counts[finding.column] += 1;
        }
      }
    }
  }
  for (const { line, problem } of log.problems()) {
    const requestId = typeof line.json?.request_id === "string" ? line.json.request_id : undefined;
    if (requestId && attributedIds.has(requestId)) continue;
    findings.push({ column: "gateway errors", record: undefined, problem, log: [line] });
    unattributed.counts["gateway errors"] += 1;
    total.counts["gateway errors"] += 1;
  }

  const kindRows = [...byKind.values()].filter((row) => row.turns > 0 || Object.values(row.counts).some((count) => count > 0));
  if (unattributed.counts["gateway errors"] > 0) kindRows.push(unattributed);
  const text = [
    ...header,
    "",
    "Per fault kind (a normal turn's findings count under the last fault that fired in its session):",
    table("fault kind", [...kindRows, total]),
    "",
    "Per path:",
    table("path", [...[...byPath.values()].filter((row) => row.turns > 0), total]),
    "",
    ...turnTimes(records, slowMs),
    ...releases(records),
    ...warnings(log),
  ].join("\n");
  const totals = { turns: total.turns, ...total.counts };
  const counts = Object.fromEntries([...byKind.values(), unattributed].map((row) => [row.name, row.counts]));
  return { text, findings, byKind: counts, totals, failed: columns.some((column) => total.counts[column] > 0) };
}

function table(title: string, rows: Row[]): string {
  const head = [title, "turns", "fired", ...columns];
  const body = rows.map((row) => [row.name, String(row.turns), String(row.fired), ...columns.map((column) => String(row.counts[column]))]);
  const widths = head.map((cell, index) => Math.max(cell.length, ...body.map((line) => line[index]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join(" | ")} |`;
  const rule = `| ${widths.map((width, index) => (index === 0 ? "-".repeat(width) : `${"-".repeat(width - 1)}:`)).join(" | ")} |`;
  return [line(head), rule, ...body.map(line)].join("\n");
}

/** How long normal turns took, per path: a slow tail shows waits that stay under the deadline. */
function turnTimes(records: TurnRecord[], slowMs: number): string[] {
  const lines = ["Normal turns, ms (median / p99 / max; slower than the idle limit, not counted):"];
  for (const path of paths) {
    const times = records.filter((record) => record.path === path && record.turn.fault.kind === "none").map((record) => record.durationMs).sort((a, b) => a - b);
    if (times.length === 0) continue;
    const at = (share: number) => times[Math.min(times.length - 1, Math.floor(share * times.length))]!;
    const slow = records.filter((record) => record.path === path && record.turn.fault.kind === "none" && record.durationMs > slowMs);
    const examples = slow.slice(0, 6).map((record) => `${record.turn.tag} ${record.durationMs} ms after ${record.attributedTo}`).join(", ");
    lines.push(`  ${pathNames[path].padEnd(15)} ${at(0.5)} / ${at(0.99)} / ${times[times.length - 1]}; ${slow.length} slower than ${slowMs}${examples ? `: ${examples}` : ""}`);
  }
  return lines;
}

/**
 * After a client left mid-turn, how soon the gateway let go of the upstream response (README: "a
 * client that disconnects cancels the upstream request"). Not counted: shown per path.
 */
function releases(records: TurnRecord[]): string[] {
  const left = records.filter((record) => record.leftAt !== undefined && record.injected.upstream.some((line) => line.includes(" → ")));
  if (left.length === 0) return [];
  const lines = ["", "Clients that left mid-turn: when the gateway let go of the upstream response (not counted):"];
  for (const path of paths) {
    const ofPath = left.filter((record) => record.path === path);
    if (ofPath.length === 0) continue;
    const delays = ofPath.flatMap((record) => (record.injected.abandonedAt === undefined ? [] : [Math.max(0, record.injected.abandonedAt - record.leftAt!)])).sort((a, b) => a - b);
    const late = ofPath.filter((record) => record.injected.abandonedAt !== undefined && record.injected.abandonedAt - record.leftAt! > 250);
    const never = ofPath.length - delays.length;
    const examples = late.slice(0, 4).map((record) => `${record.turn.tag} ${record.injected.abandonedAt! - record.leftAt!} ms`).join(", ");
    lines.push(
      `  ${pathNames[path].padEnd(15)} ${ofPath.length} left; let go within 250 ms: ${delays.length - late.length}; later: ${late.length}` +
        `${delays.length ? ` (max ${delays[delays.length - 1]} ms)` : ""}${examples ? ` e.g. ${examples}` : ""}; streamed on to its end: ${never}`,
    );
  }
  return lines;
}

function warnings(log: WorkerLog): string[] {
  const counts = log.warnings();
  if (counts.size === 0) return [];
  return ["", "Worker warnings and notes (not counted):", ...[...counts].map(([message, count]) => `  ${count} × ${message}`)];
}

/** Every finding, grouped by column and fault kind, at most `perGroup` examples each. */
export function describeFindings(findings: Finding[], reproduce: string, perGroup = 3): string {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const record = finding.record;
    const key = record ? `${finding.column} · ${record.attributedTo} · ${pathNames[record.path]}` : `${finding.column} · worker log`;
    groups.set(key, [...(groups.get(key) ?? []), finding]);
  }
  const out: string[] = [];
  for (const [key, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`\n## ${key}: ${group.length}`);
    for (const finding of group.slice(0, perGroup)) out.push(...describeFinding(finding, reproduce));
    if (group.length > perGroup) out.push(`  … and ${group.length - perGroup} more (${group.slice(perGroup, perGroup + 12).map((finding) => finding.record?.turn.tag ?? "log").join(", ")})`);
  }
  return out.join("\n");
}

function describeFinding(finding: Finding, reproduce: string): string[] {
  const record = finding.record;
  if (!record) return [`- ${finding.problem}`];
  const turn = record.turn;
  const fault = turn.fault.kind === "none" ? "none" : `${turn.fault.kind} (at ${turn.fault.at.toFixed(2)}, variant ${turn.fault.variant})`;
  return [
    `- ${turn.tag} [${pathNames[record.path]}${record.session ? ", session" : ""}${turn.stream ? "" : ", stream: false"}${turn.warmUp ? ", warm-up" : ""}] fault ${fault}${turn.fault.kind === "none" || faultFired(record) ? "" : " (not fired)"}; ${record.durationMs} ms`,
    `    problem:  ${finding.problem}`,
    `    client:   ${record.verdict.outcome}`,
    `    upstream: ${record.injected.upstream.join(" | ") || "(nothing)"}`,
    ...finding.log.map((line) => `    worker:   ${line.text.slice(0, 400)}`),
    `    repro:    ${reproduce} --only ${record.conversationId}`,
  ];
}
