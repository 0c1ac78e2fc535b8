// `npm run bench`: the gateway's CPU time per request — the workerd process's own CPU time
// (user + system, from /proc) over N requests, divided by N. CPU time is what a Worker is billed
// and limited by, and it moves far less with a busy machine than wall time does. Paths: the
// stateless Responses path, a session turn of a growing Codex-like session (a delta, its history
// recognised), the same over a client WebSocket (Codex's default: chained turns), an Anthropic
// turn in a session, and a Chat Completions turn; and, as floors, the pass-through Worker, alone
// and through a Durable Object, a Worker that watches its stream, and a session's least (see
// floor/pass-through-worker.ts). The gateway runs without its D1 database (see below why), then with it.
import Anthropic from "@anthropic-ai/sdk";
import type { MessageParam } from "@anthropic-ai/sdk/resources/messages";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { capturedRequest, postTurn } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { processIdsWhere, processStat } from "../support/processes";
import { startInMiniflare, type MiniflareGateway, type MiniflareOptions } from "../support/start-miniflare";
import { connectResponsesSocket } from "../support/ws-client";
import { loadCaptures, SocketConversation } from "../scale/codex-conversation";
import { codexSessionTurns, socketSessionTurns } from "./session-turns";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const requests = Number(process.env.BENCH_CPU_REQUESTS ?? 200);
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

/** The workerd processes this process started (Miniflare runs one per instance). */
function workerdPids(): Set<number> {
  return processIdsWhere((pid) => {
    const { command, fields } = processStat(pid);
    return command.startsWith("workerd") && Number(fields[1]) === process.pid;
  });
}

const ticksPerSecond = 100;

function cpuMs(pid: number): number {
  const { fields } = processStat(pid);
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

async function withWorker<T>(config: string, variables: Record<string, string>, run: (gateway: MiniflareGateway, pid: number) => Promise<T>, options: MiniflareOptions = {}): Promise<T> {
  const before = workerdPids();
  const gateway = await startInMiniflare(fileURLToPath(new URL(config, import.meta.url)), variables, options);
  const pid = [...workerdPids()].find((candidate) => !before.has(candidate));
  try {
    if (pid === undefined) throw new Error("the workerd process was not found");
    return await run(gateway, pid);
  } finally {
    await gateway.close();
  }
}

/** CPU ms per call of `one`, after a warm-up. */
async function perRequest(pid: number, one: (index: number) => Promise<void>, count = requests): Promise<number> {
  for (let index = 0; index < 20; index += 1) await one(index);
  const before = cpuMs(pid);
  for (let index = 0; index < count; index += 1) await one(index);
  return (cpuMs(pid) - before) / count;
}

it(`CPU time per request in the gateway's workerd (${requests} requests per path)`, { timeout: 900_000 }, async () => {
  const { body: codex } = capturedRequest("codex-http-turn1-request.json");
  const { prompt_cache_key: _key, ...stateless } = codex;
  const lines = [`\nCPU time per request (the workerd process's user + system time, ${requests} requests each; ms):`];
  const variables = { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench" };

  const [floor, floorWatching, floorObject, floorSocket] = await withWorker("./floor/wrangler.toml", { UPSTREAM_URL: upstream.url }, async (gateway, pid) => [
    await perRequest(pid, async () => {
      await postTurn(`${gateway.url}/v1/responses`, { ...stateless, stream: true }, {});
    }),
    await perRequest(pid, async () => {
      await postTurn(`${gateway.url}/watching/v1/responses`, { ...stateless, stream: true }, {});
    }),
    await perRequest(pid, async () => {
      await postTurn(`${gateway.url}/via-object/v1/responses`, { ...stateless, stream: true }, {});
    }),
    await perRequest(pid, codexSessionTurns(`${gateway.url}/via-socket/v1/responses`, codex, `cpu-floor-${Date.now()}`), Math.min(requests, 120)),
  ]);
  lines.push(`  floor: pass-through Worker          ${floor!.toFixed(2)}`);
  lines.push(`  floor: a Worker watching its stream (reads it in JavaScript for its terminal event) ${floorWatching!.toFixed(2)}`);
  lines.push(`  floor: Worker + Durable Object      ${floorObject!.toFixed(2)}`);
  lines.push(`  floor: a session's least (Worker + DO relaying an upstream WebSocket, Codex-like turns) ${floorSocket!.toFixed(2)}`);

  // The gateway's own CPU: without the D1 database. Miniflare runs D1 in the same workerd
  // process, so with it each request's usage row costs here the simulator's SQLite work too,
  // which on Cloudflare runs in D1's servers (the Worker only sends the batch). Measured with it
  // below, for the difference.
  await withWorker("../../wrangler.toml", variables, async (gateway, pid) => {
    const statelessMs = await perRequest(pid, async () => {
      await postTurn(`${gateway.url}/v1/responses`, { ...stateless, stream: true }, {});
    });
    lines.push(`  stateless Responses (46 KB body)    ${statelessMs.toFixed(2)}`);

    // A Codex-like session: every turn resends its history (a delta upstream, history recognised).
    const sessionId = `cpu-${Date.now()}`;
    let deltas = 0;
    const sessionMs = await perRequest(pid, codexSessionTurns(`${gateway.url}/v1/responses`, codex, sessionId, (result) => {
      if (result.headers.get("x-turnpike-turn") === "delta") deltas += 1;
    }), Math.min(requests, 120));
    lines.push(`  session turn (Codex-like, delta)    ${sessionMs.toFixed(2)}   (${deltas} of its turns were deltas)`);

    // Codex's default transport: one client WebSocket for the session, every turn after the
    // first a `response.create` chained on the last response with only the new message. No HTTP
    // request per turn, no Worker in between: the turn is the session object's alone. On the
    // gateway's own socket: Miniflare's entry Worker would deflate every event by its own
    // flags, which a deployed gateway declines (wrangler.toml, no_web_socket_compression).
    const conversation = new SocketConversation("cpu", `${sessionId}-socket`, loadCaptures(projectRoot), "bench");
    const client = await connectResponsesSocket(`${gateway.directUrl!.replace(/^http/, "ws")}/v1/responses`, conversation.headers);
    const socketMs = await perRequest(pid, socketSessionTurns(client, conversation), Math.min(requests, 120));
    await client.close();
    lines.push(`  session turn over WebSocket (Codex's default; chained) ${socketMs.toFixed(2)}`);

    // Claude Code's way: the whole conversation each turn, the assistant's blocks (thinking and text) sent back as received.
    const claude = new Anthropic({ baseURL: gateway.url, apiKey: "bench", maxRetries: 0 });
    let messages: MessageParam[] = [];
    let anthropicDeltas = 0;
    const anthropicMs = await perRequest(pid, async (index) => {
      messages.push({ role: "user", content: `turn ${index}` });
      const stream = claude.messages.stream({ model: "claude-opus-4-8", max_tokens: 1000, messages }, { headers: { "x-claude-code-session-id": `cpu-claude-${Math.floor(index / 40)}-${sessionId}` } });
      const message = await stream.finalMessage();
      if ((await stream.withResponse()).response.headers.get("x-turnpike-turn") === "delta") anthropicDeltas += 1;
      messages.push({ role: "assistant", content: message.content });
      if (messages.length >= 80) messages = [];
    }, Math.min(requests, 120));
    lines.push(`  Anthropic turn (in a session)       ${anthropicMs.toFixed(2)}   (${anthropicDeltas} of its turns were deltas)`);

    // A Chat Completions conversation: its session derived from its first messages.
    let chat: { role: string; content: string }[] = [];
    let chatDeltas = 0;
    const chatMs = await perRequest(pid, async (index) => {
      chat.push({ role: "user", content: `chat ${index}` });
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "system", content: `bench ${sessionId}` }, ...chat] }),
      });
      if (response.headers.get("x-turnpike-turn") === "delta") chatDeltas += 1;
      const text = await response.text();
      let answer = "";
      for (const line of text.split("\n")) {
        if (!line.startsWith("data: {")) continue;
        const content = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
        if (typeof content === "string") answer += content;
      }
      chat.push({ role: "assistant", content: answer });
      if (chat.length >= 80) chat = [];
    }, Math.min(requests, 120));
    lines.push(`  Chat Completions turn (derived)     ${chatMs.toFixed(2)}   (${chatDeltas} of its turns were deltas)`);
  }, { withoutDatabase: true, directSocket: true });

  await withWorker("../../wrangler.toml", variables, async (gateway, pid) => {
    const statelessMs = await perRequest(pid, async () => {
      await postTurn(`${gateway.url}/v1/responses`, { ...stateless, stream: true }, {});
    });
    const sessionMs = await perRequest(pid, codexSessionTurns(`${gateway.url}/v1/responses`, codex, `cpu-d1-${Date.now()}`), Math.min(requests, 120));
    const conversation = new SocketConversation("cpu", `cpu-d1-${Date.now()}-socket`, loadCaptures(projectRoot), "bench");
    const client = await connectResponsesSocket(`${gateway.directUrl!.replace(/^http/, "ws")}/v1/responses`, conversation.headers);
    const socketMs = await perRequest(pid, socketSessionTurns(client, conversation), Math.min(requests, 120));
    await client.close();
    lines.push(`  with D1 in the same process (a usage row per request): stateless ${statelessMs.toFixed(2)}, session turn ${sessionMs.toFixed(2)}, over WebSocket ${socketMs.toFixed(2)}`);
  }, { directSocket: true });
  process.stdout.write(`${lines.join("\n")}\n`);
});
