// `npm run bench`: a 30-turn Codex-like session whose history grows every turn (tool output of
// a few KB, as commands print), sent over HTTP with the whole history each turn — through the
// session path (session-id header: deltas on one upstream WebSocket) and through the stateless
// path (full replay). Prints upstream bytes and per-turn time for both.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

const turns = Number(process.env.BENCH_TURNS ?? 30);
let upstream: FakeUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" });
});
afterAll(async () => {
  await gateway?.close();
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

async function runSession(withSession: boolean): Promise<{ bytes: number[]; inputBytes: number[]; times: number[] }> {
  const { body } = capturedRequest("codex-http-turn1-request.json");
  const { prompt_cache_key: _key, ...base } = body;
  const sessionId = `bench-${withSession}-${Date.now()}`;
  let history: unknown[] = [...(base.input as unknown[])];
  const bytes: number[] = [];
  const inputBytes: number[] = [];
  const times: number[] = [];
  for (let turn = 0; turn < turns; turn += 1) {
    history.push(userMessage(`step ${turn}: look at the output and continue`));
    if (turn > 0) history.push({ type: "function_call_output", call_id: `call_${turn}`, output: toolOutput(turn) });
    upstream.reset();
    const headers: Record<string, string> = withSession ? { "session-id": sessionId } : {};
    const started = performance.now();
    const result = await postTurn(`${gateway.url}/v1/responses`, { ...base, input: history }, headers);
    times.push(performance.now() - started);
    if (result.terminalType !== "response.completed") throw new Error(`turn ${turn} failed: ${result.status}`);
    history = [...history, ...result.outputItems.map(reorderKeys)];
    const sent = upstream.requests.filter((request) => request.method !== "GET");
    bytes.push(sent.reduce((sum, request) => sum + request.bytes, 0));
    inputBytes.push(sent.reduce((sum, request) => sum + JSON.stringify(request.body?.input ?? []).length, 0));
  }
  return { bytes, inputBytes, times };
}

it(`a ${turns}-turn Codex-like session: session deltas vs stateless full replay`, { timeout: 600_000 }, async () => {
  await runSession(true); // warm-up of both paths
  await runSession(false);
  const session = await runSession(true);
  const replay = await runSession(false);
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const kib = (value: number) => `${(value / 1024).toFixed(0)} KiB`;
  const at = (values: number[], turn: number) => values[Math.min(values.length - 1, turn)]!.toFixed(2).padStart(8);
  const lines = [
    `\nSession of ${turns} turns over HTTP (history ${kib(replay.bytes.at(-1)!)} at the last turn):`,
    `upstream bytes: session ${kib(sum(session.bytes))}, full replay ${kib(sum(replay.bytes))} → ${((100 * sum(session.bytes)) / sum(replay.bytes)).toFixed(1)}% of replay`,
    `  of which input: session ${kib(sum(session.inputBytes))}, replay ${kib(sum(replay.inputBytes))} → ${((100 * sum(session.inputBytes)) / sum(replay.inputBytes)).toFixed(1)}%; the rest is tools and instructions, resent every turn`,
    `time per turn (ms)   turn 1   turn 10  turn 20  last`,
    `session path      ${[0, 9, 19, turns - 1].map((turn) => at(session.times, turn)).join(" ")}`,
    `full replay       ${[0, 9, 19, turns - 1].map((turn) => at(replay.times, turn)).join(" ")}`,
    `mean per turn: session ${(sum(session.times) / turns).toFixed(2)} ms, replay ${(sum(replay.times) / turns).toFixed(2)} ms`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
});
