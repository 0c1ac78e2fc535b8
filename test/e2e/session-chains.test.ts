// Sessions that hold several conversations at once (chains), end to end: Claude Code's side
// requests and sub-agents, parallel requests sharing a prompt_cache_key, forks of a busy chain,
// and the session defects found in review — each against an upstream with provider semantics.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startScriptedUpstream, responseEvents, type ScriptedUpstream } from "../support/scripted-upstream";
import { startGateway, type Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";
import { connectResponsesSocket } from "../support/ws-client";

const key = "gw-chains-key-0123456789";
let upstream: FakeUpstream;
let gateway: Gateway;
let counter = 0;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", GATEWAY_KEYS: key });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (condition: () => boolean, ms = 5_000) => {
  for (let waited = 0; !condition() && waited < ms; waited += 25) await sleep(25);
  return condition();
};

describe("a Claude-Code-like session: side requests and a sub-agent under one session id", () => {
  it("every main and sub-agent turn after its first goes upstream as a delta", async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
    const sessionId = `claude-like-${counter++}`;
    const headers = { "x-claude-code-session-id": sessionId };
    const tools: Anthropic.Tool[] = [{ name: "Bash", description: "run a command", input_schema: { type: "object", properties: { command: { type: "string" } } } }];
    const main: Anthropic.MessageParam[] = [];
    const agent: Anthropic.MessageParam[] = [];
    const turn = async (system: string, history: Anthropic.MessageParam[], text: string) => {
      history.push({ role: "user", content: text });
      const { data, response } = await client.messages.create({ model: "claude-opus-4-8", max_tokens: 1000, system, tools, messages: history }, { headers }).withResponse();
      history.push({ role: "assistant", content: data.content });
      return { mode: response.headers.get("x-turnpike-turn"), reason: response.headers.get("x-turnpike-full-reason"), chain: response.headers.get("x-turnpike-chain") };
    };
    const modes = { main: [] as (string | null)[], agent: [] as (string | null)[], sides: [] as (string | null)[] };
    for (const prompt of ["first task", "second task", "third task"]) {
      // Before each main turn: a small side request with the small model (a title, a topic check).
      const side = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 64, system: "Write a short title.", messages: [{ role: "user", content: prompt }] }, { headers }).withResponse();
      modes.sides.push(side.response.headers.get("x-turnpike-full-reason"));
      // The main turn and the sub-agent's turn run at the same time.
      upstream.script({ name: "slow", delayMs: 20 }, { name: "slow", delayMs: 20 });
      const [mainTurn, agentTurn] = await Promise.all([turn("You are the main agent.", main, prompt), turn("You are a sub-agent.", agent, `research ${prompt}`)]);
      modes.main.push(mainTurn.mode);
      modes.agent.push(agentTurn.mode);
    }
    expect(modes.main).toEqual(["full", "delta", "delta"]);
    expect(modes.agent).toEqual(["full", "delta", "delta"]);
    // Each side request is a conversation of its own (the first one is the session's first turn).
    expect(modes.sides).toEqual(["first_turn", "new_chain", "new_chain"]);
  });
});

describe("parallel requests", () => {
  const request = (text: string, cacheKey: string) =>
    postTurn(`${gateway.url}/v1/responses`, { model: "gpt-5.5", input: [userMessage(text)], prompt_cache_key: cacheKey, stream: true }, { authorization: `Bearer ${key}` });

  it("eight requests sharing one prompt_cache_key finish in about one request's time, none refused", async () => {
    upstream.script({ name: "slow", delayMs: 100 });
    let started = Date.now();
    await request("alone", `batch-${counter++}`);
    const one = Date.now() - started;
    const cacheKey = `batch-${counter++}`;
    upstream.script(...Array.from({ length: 8 }, () => ({ name: "slow" as const, delayMs: 100 })));
    started = Date.now();
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => request(`job ${index}`, cacheKey)));
    const all = Date.now() - started;
    expect(results.map((result) => result.status)).toEqual(Array(8).fill(200));
    expect(results.every((result) => result.terminalType === "response.completed")).toBe(true);
    expect(all).toBeLessThan(one * 2 + 1_000);
  });

  it("a turn that continues a busy chain forks at once: both answered, neither waits", async () => {
    const sessionId = `fork-${counter++}`;
    const { body: base } = capturedRequest("codex-http-turn1-request.json");
    const send = (input: unknown[]) => postTurn(`${gateway.url}/v1/responses`, { ...base, input }, { authorization: `Bearer ${key}`, "session-id": sessionId });
    const first = await send(base.input as unknown[]);
    const history = [...(base.input as unknown[]), ...first.outputItems.map(reorderKeys), userMessage("next")];
    upstream.script({ name: "slow", delayMs: 100 }, { name: "slow", delayMs: 100 });
    const [a, b] = await Promise.all([send(history), send(history)]);
    expect([a.terminalType, b.terminalType]).toEqual(["response.completed", "response.completed"]);
    const modes = [a, b].map((result) => `${result.headers.get("x-turnpike-turn")}:${result.headers.get("x-turnpike-full-reason") ?? ""}`).sort();
    expect(modes).toEqual(["delta:", "full:fork"]);
    expect(new Set([a, b].map((result) => result.headers.get("x-turnpike-chain"))).size).toBe(2);
  });
});

describe("a client that leaves cancels its turn at once", () => {
  it("an HTTP client, once its response has started", async () => {
    // Straight to workerd: wrangler's local proxy keeps the connection to the Worker open when the client leaves.
    const local = await startInMiniflare(new URL("../../wrangler.toml", import.meta.url).pathname, { UPSTREAM_URL: upstream.url, GATEWAY_KEYS: key, KEEPALIVE_INTERVAL_MS: "300" });
    onTestFinished(() => local.close());
    upstream.script({ name: "slow", delayMs: 1_500 });
    const abort = new AbortController();
    const response = await fetch(`${local.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "session-id": `leave-http-${counter++}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: [userMessage("think")], stream: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    const started = Date.now();
    abort.abort();
    const turn = upstream.requests.find((request) => request.method === "WS")!;
    expect(await until(() => turn.clientAborted === true, 5_000)).toBe(true);
    // At the next write at the latest: a keepalive, long before the upstream's next event.
    expect(Date.now() - started).toBeLessThan(1_200);
  });

  it("a WebSocket client, before any output", async () => {
    upstream.script("silent");
    const client = await connectResponsesSocket(`${gateway.url.replace(/^http/, "ws")}/v1/responses`, { authorization: `Bearer ${key}`, "session-id": `leave-ws-${counter++}` });
    client.send({ type: "response.create", model: "gpt-5.5", input: [userMessage("think")] });
    expect(await until(() => upstream.requests.some((request) => request.method === "WS"))).toBe(true);
    await client.close();
    const turn = upstream.requests.find((request) => request.method === "WS")!;
    expect(await until(() => turn.clientAborted === true, 3_000)).toBe(true);
    // A new socket of the same client is answered at once (no "response in progress").
    const again = await connectResponsesSocket(`${gateway.url.replace(/^http/, "ws")}/v1/responses`, { authorization: `Bearer ${key}`, "session-id": `leave-ws-${counter}` });
    try {
      const events = await again.create({ model: "gpt-5.5", input: [userMessage("hello")] });
      expect(events.at(-1)!.type).toBe("response.completed");
    } finally {
      await again.close();
    }
  });
});

describe("UPSTREAM_TRANSPORT=http and a client WebSocket that chains itself", () => {
  it("each chained turn goes upstream as its whole input, rebuilt from what the session retained", async () => {
    const local = await startGateway({ UPSTREAM_URL: upstream.url, GATEWAY_KEYS: key, UPSTREAM_TRANSPORT: "http" });
    try {
      const client = await connectResponsesSocket(`${local.url.replace(/^http/, "ws")}/v1/responses`, { authorization: `Bearer ${key}`, "session-id": `http-chained-${counter++}` });
      try {
        const first = await client.create({ model: "gpt-5.5", input: [userMessage("one")] });
        const firstId = (first.at(-1) as { response: { id: string } }).response.id;
        const second = await client.create({ model: "gpt-5.5", previous_response_id: firstId, input: [userMessage("two")] });
        expect(second.at(-1)!.type).toBe("response.completed");
        const third = await client.create({ model: "gpt-5.5", previous_response_id: (second.at(-1) as { response: { id: string } }).response.id, input: [userMessage("three")] });
        expect(third.at(-1)!.type).toBe("response.completed");
        const posts = upstream.requests.filter((request) => request.method === "POST");
        expect(posts.map((request) => request.body.previous_response_id)).toEqual([undefined, undefined, undefined]);
        const lastInput = posts.at(-1)!.body.input as { role?: string; content?: unknown }[];
        expect(lastInput.filter((item) => item.role === "user").map((item) => JSON.stringify(item.content))).toEqual(["one", "two", "three"].map((text) => JSON.stringify(userMessage(text).content)));
      } finally {
        await client.close();
      }
    } finally {
      await local.close();
    }
  });
});

describe("a provider that refuses another connection", () => {
  it("websocket_connection_limit_reached on a fresh socket: the turn goes in full over HTTP, invisibly", async () => {
    const limited = await startFakeUpstream({ connectionLimitMs: 0 });
    const local = await startGateway({ UPSTREAM_URL: limited.url, GATEWAY_KEYS: key });
    try {
      const result = await postTurn(`${local.url}/v1/responses`, { model: "gpt-5.5", input: [userMessage("hello")], stream: true }, { authorization: `Bearer ${key}`, "session-id": `limited-${counter++}` });
      expect(result.terminalType).toBe("response.completed");
      expect(limited.requests.filter((request) => request.method === "WS")).toHaveLength(1);
      expect(limited.requests.filter((request) => request.method === "POST")).toHaveLength(1);
    } finally {
      await local.close();
      await limited.close();
    }
  });
});

describe("an upstream that misbehaves on its WebSocket", () => {
  let scripted: ScriptedUpstream;
  let local: Gateway;
  let behaviour: "late-frames" | "already-in-flight" | "stalled-error-body" = "late-frames";
  let stalledOnce = false;

  beforeAll(async () => {
    scripted = await startScriptedUpstream({
      onUpgrade: (_request, socket) => {
        if (behaviour !== "stalled-error-body" || stalledOnce) return false;
        stalledOnce = true;
        // The status, then a body that never ends.
        socket.write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"error\":");
        return true;
      },
      onCreate: (create, connection) => {
        const number = scripted.creates.length;
        const id = `resp_scripted_${number}`;
        if (behaviour === "already-in-flight" && create.previous_response_id) {
          connection.send({ type: "error", status: 400, error: { type: "invalid_request_error", code: "response_already_in_flight", message: "A response is already in flight on this connection." } });
          return;
        }
        if (behaviour === "late-frames" && number > 1) {
          // Leftovers of the previous response, arriving after the next create: they are no turn's.
          const previous = responseEvents(`resp_scripted_${number - 1}`, "stale");
          connection.send(previous.at(-1)!);
          connection.send(previous[2]!);
        }
        for (const event of responseEvents(id, `answer ${number}`)) connection.send(event);
        if (behaviour === "late-frames") connection.send(responseEvents(id, `answer ${number}`).at(-1)!);
      },
    });
    local = await startGateway({ UPSTREAM_URL: scripted.url, GATEWAY_KEYS: key, STREAM_IDLE_TIMEOUT_MS: "30000" });
  });
  afterAll(async () => {
    await local?.close();
    await scripted?.close();
  });

  const conversation = () => {
    const sessionId = `scripted-${counter++}`;
    let history: unknown[] = [];
    return async (text: string) => {
      history = [...history, userMessage(text)];
      const result = await postTurn(`${local.url}/v1/responses`, { model: "gpt-5.5", input: history, stream: true }, { authorization: `Bearer ${key}`, "session-id": sessionId });
      history = [...history, ...result.outputItems];
      return result;
    };
  };

  it("late and repeated frames of an earlier response never end a later turn", async () => {
    behaviour = "late-frames";
    const turn = conversation();
    const results = [await turn("one"), await turn("two"), await turn("three")];
    for (const result of results) {
      expect(result.terminalType).toBe("response.completed");
      expect(result.events.filter((event) => event.event === "response.completed")).toHaveLength(1);
    }
    const ids = results.map((result) => result.response!.id);
    expect(new Set(ids).size).toBe(3);
    expect(JSON.stringify(results[1]!.outputItems)).not.toContain("stale");
    expect(results[2]!.headers.get("x-turnpike-turn")).toBe("delta");
  });

  it("response_already_in_flight before any output: resent in full on a new connection, invisibly", async () => {
    behaviour = "already-in-flight";
    const turn = conversation();
    await turn("one");
    const before = scripted.creates.length;
    const second = await turn("two");
    expect(second.terminalType).toBe("response.completed");
    const retried = scripted.creates.slice(before);
    expect(retried).toHaveLength(2);
    expect(retried[1]!.body.previous_response_id).toBeUndefined();
    expect(retried[1]!.connection).not.toBe(retried[0]!.connection);
  });

  it("a refused upgrade whose body stalls fails the turn within seconds, and the next turn works", async () => {
    behaviour = "stalled-error-body";
    const turn = conversation();
    const started = Date.now();
    const failed = await turn("one");
    expect(failed.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    behaviour = "late-frames";
    const next = await turn("two");
    expect(next.terminalType).toBe("response.completed");
  }, 20_000);
});
