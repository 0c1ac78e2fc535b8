// The chaos soak: the Worker bundled in workerd (Miniflare, as `npm run bench` runs it) in front
// of the fault-injecting fake upstream, driven by the planned conversations at a fixed
// concurrency; every turn checked, every Worker log line kept.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeUpstream } from "../support/fake-upstream";
import { startInMiniflare } from "../support/start-miniflare";
import type { Gateway } from "../support/start-gateway";
import { faultKinds, paths, type FaultKind, type Path } from "./fault-kinds";
import { SoakInjector } from "./fault-injector";
import { planSoak, type PlannedConversation } from "./plan";
import { buildReport, describeFindings, type SoakReport } from "./report";
import { runAnthropicConversation } from "./run-anthropic";
import { runClientWebSocketConversation } from "./run-client-websocket";
import { runHttpSessionConversation, runStatelessConversation } from "./run-responses-http";
import { sleep, type SoakContext, type TurnRecord } from "./turn-record";
import { WorkerLog } from "./worker-log";

export interface SoakOptions {
  turns: number;
  seed: number;
  concurrency: number;
  faults: readonly FaultKind[];
  paths: readonly Path[];
  /** Only these conversations of the plan (to reproduce a finding). */
  only?: readonly string[] | undefined;
  /** STREAM_IDLE_TIMEOUT_MS for the Worker: short, so that stalls are cheap. */
  idleTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** A client turn that has not ended after this long is hung (and is aborted). */
  deadlineMs: number;
  faultRate: number;
  /** UPSTREAM_TRANSPORT for the Worker (sessions): unset is the gateway's default (auto: WebSocket). */
  upstreamTransport?: "websocket" | "http" | undefined;
  /**
   * The clients talk to the fake upstream itself, no gateway between: a check of the harness,
   * whose findings must then show the faults (Anthropic has no such upstream: left out).
   */
  direct?: boolean | undefined;
  /** Print every line the Worker wrote (with --only: the replayed conversation's whole log). */
  printWorkerLog?: boolean | undefined;
  /** Findings shown per group (column, fault kind, path). */
  examples: number;
  /** Progress lines (stderr in the command); none in tests. */
  progress?: ((line: string) => void) | undefined;
}

export const defaultSoakOptions: SoakOptions = {
  turns: 10_000,
  seed: 1,
  concurrency: 16,
  faults: faultKinds,
  paths,
  idleTimeoutMs: 1_500,
  keepaliveIntervalMs: 500,
  deadlineMs: 10_000,
  faultRate: 0.6,
  examples: 3,
};

/** The short soak `npm test` runs (test/e2e/soak.test.ts): ≥ 500 turns, a fixed seed. */
export const shortSoakOptions: Partial<SoakOptions> = { turns: 600, seed: 1, concurrency: 12 };

export interface SoakResult {
  report: SoakReport;
  records: TurnRecord[];
  /** The table and the findings, as printed by `npm run soak`. */
  text: string;
  elapsedMs: number;
  /** Exceptions in the harness itself (never counted as gateway errors). */
  harnessErrors: string[];
}

/** The project's wrangler.toml, found upwards from here (the command runs a bundle elsewhere). */
function wranglerConfig(): string {
  for (let folder = dirname(fileURLToPath(import.meta.url)); ; folder = dirname(folder)) {
    if (existsSync(join(folder, "wrangler.toml"))) return join(folder, "wrangler.toml");
    if (dirname(folder) === folder) throw new Error("wrangler.toml not found above the soak");
  }
}
const gatewayKey = "gw-soak-key-0123456789";

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  if (options.direct && options.paths.includes("anthropic")) throw new Error("--direct has no Anthropic upstream: pass --paths without anthropic");
  let conversations = planSoak(options);
  if (options.only?.length) conversations = conversations.filter((conversation) => options.only!.includes(conversation.id));
  const injector = new SoakInjector();
  const log = new WorkerLog();
  const upstream = await startFakeUpstream({ faults: injector, storedResponsesOnly: true });
  const gateway = options.direct ? directGateway(upstream.url) : await startInMiniflare(
    wranglerConfig(),
    {
      UPSTREAM_URL: upstream.url,
      UPSTREAM_API_KEY: "sk-soak-upstream-0123456789",
      GATEWAY_KEYS: gatewayKey,
      STREAM_IDLE_TIMEOUT_MS: String(options.idleTimeoutMs),
      KEEPALIVE_INTERVAL_MS: String(options.keepaliveIntervalMs),
      ...(options.upstreamTransport ? { UPSTREAM_TRANSPORT: options.upstreamTransport } : {}),
    },
    { onOutput: log.add },
  ).catch(async (error: unknown) => {
    await upstream.close();
    throw error;
  });
  const context: SoakContext = { gatewayUrl: gateway.url, key: gatewayKey, seed: options.seed, injector, deadlineMs: options.deadlineMs };
  const records: TurnRecord[] = [];
  const harnessErrors: string[] = [];
  try {
    await runPool(conversations, options, async (conversation) => {
      try {
        const recorder = await runConversation(conversation, context);
        records.push(...recorder.records);
      } catch (error) {
        harnessErrors.push(`${conversation.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    });
    // Log lines of the last streams are written as they settle.
    await sleep(500);
  } finally {
    await gateway.close();
    await upstream.close();
  }
  records.sort((a, b) => a.turn.tag.localeCompare(b.turn.tag, undefined, { numeric: true }));
  const elapsedMs = Date.now() - started;
  const header = [
    `Chaos soak: seed ${options.seed}, ${records.length} turns in ${conversations.length} conversations, concurrency ${options.concurrency}, ` +
      `${(elapsedMs / 1000).toFixed(1)} s; idle limit ${options.idleTimeoutMs} ms, turn deadline ${options.deadlineMs} ms` +
      `${options.upstreamTransport ? `, UPSTREAM_TRANSPORT=${options.upstreamTransport}` : ""}.`,
    `Faults: ${options.faults.join(", ")}. Paths: ${options.paths.join(", ")}.`,
    ...(options.direct ? ["DIRECT: the clients talked to the fake upstream, no gateway between (a check of the harness)."] : []),
  ];
  const report = buildReport(records, log, header, options.idleTimeoutMs);
  const harness = harnessErrors.length > 0 ? `\n\nHarness errors (not the gateway's):\n${harnessErrors.join("\n")}` : "";
  const workerLog = options.printWorkerLog ? `\n\nWorker log (${log.lines.length} lines):\n${log.lines.map((line) => `${line.stream}: ${line.text}`).join("\n")}` : "";
  const text = `${report.text}${report.findings.length > 0 ? `\n\nFindings:${describeFindings(report.findings, reproduceCommand(options), options.examples)}` : ""}${harness}${workerLog}`;
  return { report, records, text, elapsedMs, harnessErrors };
}

/** The fake upstream in the gateway's place (`--direct`): its routes are under /v1 as the gateway's. */
function directGateway(upstreamUrl: string): Gateway {
  return { url: upstreamUrl.replace(/\/v1$/, ""), close: async () => {} };
}

/**
 * The command that replays one conversation of this run: the plan depends on the seed, the fault
 * kinds, the paths and the fault rate (not on the number of turns), so those are repeated.
 */
export function reproduceCommand(options: SoakOptions): string {
  const parts = [`npm run soak -- --seed ${options.seed}`];
  if (options.faults.join() !== faultKinds.join()) parts.push(`--faults ${options.faults.join(",") || "none"}`);
  if (options.paths.join() !== paths.join()) parts.push(`--paths ${options.paths.join(",")}`);
  if (options.faultRate !== defaultSoakOptions.faultRate) parts.push(`--fault-rate ${options.faultRate}`);
  if (options.upstreamTransport) parts.push(`--upstream-transport ${options.upstreamTransport}`);
  if (options.direct) parts.push("--direct");
  return parts.join(" ");
}

function runConversation(conversation: PlannedConversation, context: SoakContext) {
  switch (conversation.path) {
    case "stateless":
      return runStatelessConversation(conversation, context);
    case "http-session":
      return runHttpSessionConversation(conversation, context);
    case "client-websocket":
      return runClientWebSocketConversation(conversation, context);
    case "anthropic":
      return runAnthropicConversation(conversation, context);
  }
}

/** Runs the conversations `concurrency` at a time, in plan order. */
async function runPool(conversations: PlannedConversation[], options: SoakOptions, run: (conversation: PlannedConversation) => Promise<void>): Promise<void> {
  let next = 0;
  let done = 0;
  const total = conversations.reduce((sum, conversation) => sum + conversation.turns.length, 0);
  let turnsDone = 0;
  let lastProgress = Date.now();
  const worker = async () => {
    while (next < conversations.length) {
      const conversation = conversations[next++]!;
      await run(conversation);
      done += 1;
      turnsDone += conversation.turns.length;
      if (options.progress && (Date.now() - lastProgress > 5_000 || done === conversations.length)) {
        lastProgress = Date.now();
        options.progress(`  ${turnsDone}/${total} turns, ${done}/${conversations.length} conversations`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
}
