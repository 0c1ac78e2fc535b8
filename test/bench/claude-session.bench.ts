// `npm run bench`: a Claude-Code-like session through the Anthropic route, the way the client is
// used interactively: 20 main turns, each a tool round trip whose result grows the history, each
// preceded by a small side request with the small model (a title, a topic check) under the same
// session id, and a sub-agent conversation running alongside the main one. Prints the share of
// main and sub-agent turns sent upstream as deltas, and the upstream bytes against the same
// conversations replayed in full (no session id: the stateless path).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

const mainTurns = Number(process.env.BENCH_CLAUDE_TURNS ?? 20);
/** The sub-agent runs this many turns, alongside main turns 5 onwards. */
const agentTurns = 8;
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the bench walks arbitrary JSON
type Json = any;

/** Claude Code's own system prompt and tools (12 tools, 32 KB), from the captured first turn. */
const captured = JSON.parse(readFileSync(new URL("../fixtures/clients/claude-messages-turn1.json", import.meta.url), "utf8")).body as Json;
const tools = captured.tools as Json[];
const mainSystem = captured.system as Json[];
const agentSystem = [{ type: "text", text: `You are a sub-agent doing research for the main agent. ${"Report what you find. ".repeat(100)}` }];

/** A tool result of 4–24 KB, like file reads and test runs. */
function toolResult(turn: number): string {
  const lines = 60 + ((turn * 37) % 240);
  return Array.from({ length: lines }, (_, line) => `src/module-${turn}/file-${line}.ts: ${"x".repeat(40)} ok`).join("\n");
}

interface Conversation {
  system: unknown[];
  messages: Json[];
  sessionId: string | undefined;
  modes: string[];
}

interface Sent {
  bytes: number;
}

async function post(body: Record<string, unknown>, sessionId: string | undefined): Promise<{ message: Json; mode: string }> {
  const headers: Record<string, string> = { "content-type": "application/json", "anthropic-version": "2023-06-01" };
  if (sessionId) headers["x-claude-code-session-id"] = sessionId;
  const response = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers, body: JSON.stringify(body) });
  if (response.status !== 200) throw new Error(`bench request failed: ${response.status} ${await response.text()}`);
  return { message: await response.json(), mode: response.headers.get("x-turnpike-turn") ?? "stateless" };
}

/** One tool round trip: the user's prompt (or the tool result), then the model's tool call. */
async function turn(chat: Conversation, index: number): Promise<void> {
  const last = chat.messages.at(-1);
  if (last?.role === "assistant") {
    const call = (last.content as Json[]).find((block) => block.type === "tool_use");
    chat.messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: toolResult(index) }, { type: "text", text: `step ${index}: continue` }] });
  } else {
    chat.messages.push({ role: "user", content: `task ${index}: look into it` });
  }
  const { message, mode } = await post({ model: "claude-opus-4-8", max_tokens: 32_000, stream: false, system: chat.system, tools, messages: chat.messages }, chat.sessionId);
  chat.modes.push(mode);
  chat.messages.push({ role: "assistant", content: message.content });
}

async function sideRequest(index: number, sessionId: string | undefined): Promise<string> {
  const body = { model: "claude-haiku-4-5", max_tokens: 512, stream: false, system: [{ type: "text", text: "Summarise the conversation topic as a short title." }], messages: [{ role: "user", content: `task ${index}: look into it` }] };
  return (await post(body, sessionId)).mode;
}

/** The whole session: returns each path's modes and the upstream bytes it caused. */
async function runSession(sessionId: string | undefined): Promise<{ main: Conversation; agent: Conversation; sides: string[]; bytes: number; inputBytes: number }> {
  const main: Conversation = { system: mainSystem, messages: [], sessionId, modes: [] };
  const agent: Conversation = { system: agentSystem, messages: [], sessionId, modes: [] };
  const sides: string[] = [];
  upstream.reset();
  for (let index = 0; index < mainTurns; index += 1) {
    sides.push(await sideRequest(index, sessionId));
    // Every answer is a tool call, so that the next turn carries its result.
    const agentRuns = index >= 5 && index < 5 + agentTurns;
    upstream.script(...Array.from({ length: agentRuns ? 2 : 1 }, () => ({ name: "function-call" as const, reasoningChars: 1_700 })));
    await Promise.all([turn(main, index), agentRuns ? turn(agent, index) : Promise.resolve()]);
  }
  const sent = upstream.requests.filter((request) => request.method !== "GET");
  const bytes = sent.reduce((sum, request: Sent) => sum + request.bytes, 0);
  const inputBytes = sent.reduce((sum, request) => sum + JSON.stringify(request.body?.input ?? []).length, 0);
  return { main, agent, sides, bytes, inputBytes };
}

it(`a Claude-Code-like session (${mainTurns} main turns, a side request before each, a sub-agent): deltas and upstream bytes`, { timeout: 600_000 }, async () => {
  const session = await runSession(`bench-claude-${Date.now()}`);
  const replay = await runSession(undefined);
  const share = (modes: string[]) => `${modes.slice(1).filter((mode) => mode === "delta").length}/${modes.length - 1}`;
  const kib = (value: number) => `${(value / 1024).toFixed(0)} KiB`;
  const history = JSON.stringify(session.main.messages).length;
  const lines = [
    `\nClaude-Code-like session through the Anthropic route (main history ${kib(history)} at the end):`,
    `  main turns after the first sent as deltas: ${share(session.main.modes)}; sub-agent: ${share(session.agent.modes)}; side requests: ${session.sides.length} (each its own chain)`,
    `  upstream bytes: session ${kib(session.bytes)}, full replay ${kib(replay.bytes)} → ${((100 * session.bytes) / replay.bytes).toFixed(1)}% of replay`,
    `    of which input: session ${kib(session.inputBytes)}, replay ${kib(replay.inputBytes)} → ${((100 * session.inputBytes) / replay.inputBytes).toFixed(1)}%; the rest is what every response.create must repeat (Claude Code's 12 tools are 32 KB, its system prompt 7 KB)`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (session.main.modes.slice(1).some((mode) => mode !== "delta") || session.agent.modes.slice(1).some((mode) => mode !== "delta")) {
    throw new Error(`a turn after the first went in full: main ${session.main.modes.join(",")}; agent ${session.agent.modes.join(",")}`);
  }
});
