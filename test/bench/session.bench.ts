// `npm run bench`: a 30-turn Codex-like session whose history grows every turn (tool output of
// a few KB, as commands print), sent over HTTP with the whole history each turn — through the
// session path (session-id header: deltas on one upstream WebSocket) and through the stateless
// path (full replay). Prints upstream bytes and per-turn time for both, and the session path's
// time over a floor that only carries the same body to a Durable Object (no upstream): what the
// session adds per turn, which should not grow with the history.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";
import { knownInput, parseWithKnownInput } from "../../src/session/resent-history";
import { fieldsKey, planFullHistoryTurn } from "../../src/session/turn-planner";
import { parseJsonObject } from "../../src/shared/json-object";

const turns = Number(process.env.BENCH_TURNS ?? 30);
/**
 * Each response carries a reasoning item with this much encrypted content, as Codex's do (it
 * asks for `reasoning.encrypted_content`): ~1,700 characters per item measured on a real
 * provider (LibreChat-AI/agents#422). The session never sends it back; a full replay does.
 */
const reasoningChars = Number(process.env.BENCH_REASONING_CHARS ?? 1_700);
/** Runs of the whole session, for per-turn medians. */
const rounds = Number(process.env.BENCH_SESSION_ROUNDS ?? 3);
let upstream: FakeUpstream;
let gateway: Gateway;
let floor: Gateway;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" });
  floor = await startInMiniflare(fileURLToPath(new URL("./floor/wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url });
});
afterAll(async () => {
  await gateway?.close();
  await floor?.close();
  await upstream?.close();
});

/**
 * Tool output of varying size, 4–24 KB (Codex caps a tool result at ~10k tokens), like file
 * reads, test runs and diffs in a real session: the history reaches ~0.5 MB by turn 30.
 */
function toolOutput(turn: number): string {
  const lines = 60 + ((turn * 37) % 240);
  return Array.from({ length: lines }, (_, line) => `src/module-${turn}/file-${line}.ts: ${"x".repeat(40)} ok`).join("\n");
}

type Path = "session" | "replay" | "sink";

interface Conversation {
  path: Path;
  url: string;
  headers: Record<string, string>;
  history: unknown[];
  /** The call id the next turn answers. */
  pendingCall: string;
  bytes: number[];
  inputBytes: number[];
  times: number[];
}

function conversation(path: Path, base: Record<string, unknown>): Conversation {
  const url = path === "sink" ? `${floor.url}/sink-object/v1/responses` : `${gateway.url}/v1/responses`;
  const headers: Record<string, string> = path === "replay" ? {} : { "session-id": `bench-${path}-${Date.now()}` };
  return { path, url, headers, history: [...(base.input as unknown[])], pendingCall: "", bytes: [], inputBytes: [], times: [] };
}

/**
 * One turn of a Codex tool loop: the model's reasoning and function call came back last turn;
 * now its output (and a line from the user) goes up with the whole history.
 */
async function turn(chat: Conversation, base: Record<string, unknown>, index: number): Promise<void> {
  if (index > 0) chat.history.push({ type: "function_call_output", call_id: chat.pendingCall, output: toolOutput(index) });
  chat.history.push(userMessage(`step ${index}: look at the output and continue`));
  upstream.reset();
  upstream.script({ name: "function-call", reasoningChars });
  const started = performance.now();
  const result = await postTurn(chat.url, { ...base, input: chat.history }, chat.headers);
  chat.times.push(performance.now() - started);
  if (result.terminalType !== "response.completed") throw new Error(`${chat.path} turn ${index} failed: ${result.status}`);
  chat.history = [...chat.history, ...result.outputItems.map(reorderKeys)];
  const call = result.outputItems.find((item) => (item as { type?: string }).type === "function_call") as { call_id: string } | undefined;
  if (!call) throw new Error(`${chat.path} turn ${index}: no function call to answer`);
  chat.pendingCall = call.call_id;
  const sent = upstream.requests.filter((request) => request.method !== "GET");
  chat.bytes.push(sent.reduce((sum, request) => sum + request.bytes, 0));
  chat.inputBytes.push(sent.reduce((sum, request) => sum + JSON.stringify(request.body?.input ?? []).length, 0));
}

/** The three paths in lockstep, turn by turn, in rotating order: they see the same machine. */
async function runSessions(): Promise<Record<Path, Conversation>> {
  const { body } = capturedRequest("codex-http-turn1-request.json");
  const { prompt_cache_key: _key, ...base } = body;
  const chats = { session: conversation("session", base), replay: conversation("replay", base), sink: conversation("sink", base) };
  const order = Object.values(chats);
  for (let index = 0; index < turns; index += 1) {
    for (let offset = 0; offset < order.length; offset += 1) await turn(order[(index + offset) % order.length]!, base, index);
  }
  return chats;
}

it(`a ${turns}-turn Codex-like session: session deltas vs stateless full replay`, { timeout: 600_000 }, async () => {
  await runSessions(); // warm-up
  // Times are per-turn medians over a few runs (one run on a busy machine is noisy); bytes are
  // the same in every run.
  const runs: Record<Path, Conversation>[] = [];
  for (let run = 0; run < rounds; run += 1) runs.push(await runSessions());
  const medianTimes = (path: Path) =>
    runs[0]![path].times.map((_, index) => runs.map((run) => run[path].times[index]!).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!);
  const summarised = (path: Path): Conversation => ({ ...runs[0]![path], times: medianTimes(path) });
  const session = summarised("session");
  const replay = summarised("replay");
  const sink = summarised("sink");
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const kib = (value: number) => `${(value / 1024).toFixed(0)} KiB`;
  const at = (values: number[], turn: number) => values[Math.min(values.length - 1, turn)]!.toFixed(2).padStart(8);
  const shown = [0, 9, 19, turns - 1];
  const overhead = session.times.map((time, index) => time - sink.times[index]!);
  const mean = (values: number[], from: number, to: number) => sum(values.slice(from, to)) / Math.max(1, values.slice(from, to).length);
  const lines = [
    `\nSession of ${turns} turns over HTTP (history ${kib(replay.bytes.at(-1)!)} at the last turn; times: per-turn medians of ${rounds} runs):`,
    `upstream bytes: session ${kib(sum(session.bytes))}, full replay ${kib(sum(replay.bytes))} → ${((100 * sum(session.bytes)) / sum(replay.bytes)).toFixed(1)}% of replay`,
    `  of which input: session ${kib(sum(session.inputBytes))}, replay ${kib(sum(replay.inputBytes))} → ${((100 * sum(session.inputBytes)) / sum(replay.inputBytes)).toFixed(1)}%; the rest is what every response.create repeats (tools, client metadata)`,
    `time per turn (ms)          turn 1   turn 10  turn 20  last`,
    `session path             ${shown.map((index) => at(session.times, index)).join(" ")}`,
    `full replay              ${shown.map((index) => at(replay.times, index)).join(" ")}`,
    `floor: body to an object ${shown.map((index) => at(sink.times, index)).join(" ")}`,
    `session over that floor  ${shown.map((index) => at(overhead, index)).join(" ")}`,
    `session over the floor, mean of turns 2–10: ${mean(overhead, 1, 10).toFixed(2)} ms, of turns 21–${turns}: ${mean(overhead, 20, turns).toFixed(2)} ms`,
    `mean per turn: session ${(sum(session.times) / turns).toFixed(2)} ms, replay ${(sum(replay.times) / turns).toFixed(2)} ms`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
});

/**
 * The session object's own work per turn, in process (stable to the microsecond, unlike the
 * end-to-end times above): reading a resent history and planning the turn, at growing history
 * sizes — parsed in full, and recognised by its text (src/session/resent-history.ts).
 */
it("planning a turn as the history grows: parsed in full vs recognised", () => {
  const { body } = capturedRequest("codex-http-turn1-request.json");
  const lines = ["\nPlanning one turn in the session object (median of 40, ms):", "history     parsed in full   recognised"];
  // (Above 4 MiB the session keeps no input in memory and parses in full: see resent-history.ts.)
  for (const historyBytes of [100_000, 400_000, 1_600_000]) {
    const items: unknown[] = [...(body.input as unknown[])];
    for (let index = 0; JSON.stringify(items).length < historyBytes; index += 1) {
      items.push({ type: "function_call_output", call_id: `call_${index}`, output: toolOutput(index) });
    }
    const texts = items.map((item) => JSON.stringify(item));
    const snapshot = { lastResponseId: "resp_1", fieldsKey: fieldsKey({ ...body, input: items }), inputItems: texts, outputItems: [], connectionGeneration: 1 };
    const known = knownInput(items, texts, undefined)!;
    const next = JSON.stringify({ ...body, input: [...items, userMessage("next")] });
    const time = (plan: () => unknown) => {
      const samples: number[] = [];
      for (let round = 0; round < 40; round += 1) {
        const started = performance.now();
        const planned = plan() as { mode: string };
        samples.push(performance.now() - started);
        if (planned.mode !== "delta") throw new Error("expected a delta turn");
      }
      return samples.sort((a, b) => a - b)[20]!;
    };
    const full = time(() => planFullHistoryTurn(parseJsonObject(next), snapshot, 1));
    const recognised = time(() => planFullHistoryTurn(parseWithKnownInput(next, known)!, snapshot, 1));
    lines.push(`${`${(historyBytes / 1000).toFixed(0)} KB`.padEnd(12)}${full.toFixed(3).padStart(14)}${recognised.toFixed(3).padStart(13)}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
});
