// Sessions over HTTP: Codex-like clients resend the whole history every turn; the session
// Durable Object sends the provider only what is new, on one upstream WebSocket, and recovers
// transparently when the provider's state or the connection is lost.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream, type RecordedRequest } from "../support/fake-upstream";
import { captureConsole, startGateway, type Gateway } from "../support/start-gateway";

const keyA = "gw-key-a-0123456789";
const keyB = "gw-key-b-0123456789";

let upstream: FakeUpstream;
let gateway: Gateway;
let sessionCounter = 0;

beforeAll(async () => {
  upstream = await startFakeUpstream({ connectionLimitMs: 60 * 60 * 1000 });
  gateway = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", GATEWAY_KEYS: `${keyA},${keyB}` });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const creates = () => upstream.requests.filter((request) => request.method === "WS");

/** A Codex-like conversation on one session: full history over HTTP every turn. */
function conversation(options: { key?: string; sessionId?: string; url?: () => string } = {}) {
  const sessionId = options.sessionId ?? `session-${Date.now()}-${sessionCounter++}`;
  const { body: base } = capturedRequest("codex-http-turn1-request.json");
  let history: unknown[] = [...(base.input as unknown[])];
  return {
    sessionId,
    async turn(next: unknown[] = [], model = "gpt-5.5") {
      history = [...history, ...next];
      const result = await postTurn(
        `${(options.url ?? (() => gateway.url))()}/v1/responses`,
        { ...base, model, input: history, prompt_cache_key: sessionId },
        { authorization: `Bearer ${options.key ?? keyA}`, "session-id": sessionId },
      );
      // Codex sends the output back in its own key order.
      history = [...history, ...result.outputItems.map(reorderKeys)];
      return result;
    },
  };
}

function sentInput(request: RecordedRequest): unknown[] {
  return request.body.input as unknown[];
}

describe("delta turns", () => {
  it("the first turn goes in full, later turns as previous_response_id + only the new items", async () => {
    const chat = conversation();
    const first = await chat.turn();
    expect(first.terminalType).toBe("response.completed");
    expect(first.headers.get("x-turnpike-turn")).toBe("full");
    expect(first.headers.get("x-turnpike-full-reason")).toBe("first_turn");

    const second = await chat.turn([userMessage("and now?")]);
    expect(second.terminalType).toBe("response.completed");
    expect(second.headers.get("x-turnpike-turn")).toBe("delta");
    const [full, delta] = creates();
    expect(full!.body.previous_response_id).toBeUndefined();
    expect(delta!.body.previous_response_id).toBe(first.response!.id);
    expect(sentInput(delta!)).toEqual([userMessage("and now?")]);
    // Non-input fields (tools, reasoning…) are resent every turn; the history is not.
    expect(JSON.stringify(sentInput(delta!)).length).toBeLessThan(JSON.stringify(sentInput(full!)).length / 20);
    expect(delta!.bytes).toBeLessThan(full!.bytes);
    // One upstream connection for the whole session.
    expect(new Set(creates().map((request) => request.connectionId)).size).toBe(1);
  });

  it("the resent history is recognised by its text, not parsed again (said in the log)", async () => {
    const console$ = captureConsole();
    try {
      const chat = conversation();
      const first = await chat.turn();
      const second = await chat.turn([userMessage("two")]);
      const third = await chat.turn([userMessage("three")]);
      expect(third.headers.get("x-turnpike-turn")).toBe("delta");
      expect(third.headers.get("x-turnpike-history")).toBe("recognised");
      expect(sentInput(creates().at(-1)!)).toEqual([userMessage("three")]);
      // Log lines are written as streams settle, and reach this process through wrangler's
      // logger, not always in order and among other tests' late lines: found by request id.
      const ids = [first, second, third].map((turn) => turn.headers.get("x-turnpike-request-id"));
      const lineOf = (id: string | null) => console$.lines.find((line) => id !== null && line.includes(`"request_id":"${id}"`) && line.includes('"turn"'));
      for (let waited = 0; ids.some((id) => !lineOf(id)) && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      const turns = ids.map((id) => lineOf(id) ?? "{}");
      expect(turns.map((line) => (JSON.parse(line.slice(line.indexOf("{"))) as { history?: string }).history)).toEqual([undefined, "recognised", "recognised"]);
    } finally {
      console$.restore();
    }
  });

  it("a tool round trip continues as a delta carrying the function_call_output", async () => {
    const chat = conversation();
    upstream.script("function-call");
    const call = await chat.turn();
    const item = call.outputItems[0] as { type: string; call_id: string };
    expect(item.type).toBe("function_call");
    const result = await chat.turn([{ type: "function_call_output", call_id: item.call_id, output: "hello-from-tool" }]);
    expect(result.headers.get("x-turnpike-turn")).toBe("delta");
    expect(sentInput(creates().at(-1)!)).toEqual([{ type: "function_call_output", call_id: item.call_id, output: "hello-from-tool" }]);
  });

  it("changed fields or an edited history go in full, and say why", async () => {
    const chat = conversation();
    await chat.turn();
    const changed = await chat.turn([userMessage("switch model")], "gpt-5.5-mini");
    expect(changed.headers.get("x-turnpike-full-reason")).toBe("fields_changed");

    const { body: base } = capturedRequest("codex-http-turn1-request.json");
    const edited = await postTurn(
      `${gateway.url}/v1/responses`,
      { ...base, model: "gpt-5.5-mini", input: [...(base.input as unknown[]), userMessage("a different branch")], prompt_cache_key: chat.sessionId },
      { authorization: `Bearer ${keyA}`, "session-id": chat.sessionId },
    );
    expect(edited.headers.get("x-turnpike-full-reason")).toBe("history_edited");
    expect(creates().at(-1)!.body.previous_response_id).toBeUndefined();
  });

  it("two gateway keys using the same session id never share a session", async () => {
    const sessionId = `shared-${Date.now()}`;
    const a = conversation({ key: keyA, sessionId });
    const b = conversation({ key: keyB, sessionId });
    await a.turn();
    const bFirst = await b.turn();
    expect(bFirst.headers.get("x-turnpike-full-reason")).toBe("first_turn");
    const aSecond = await a.turn([userMessage("a again")]);
    expect(aSecond.headers.get("x-turnpike-turn")).toBe("delta");
    const connections = new Set(creates().map((request) => request.connectionId));
    expect(connections.size).toBe(2);
  });
});

describe("recovery, never a hang", () => {
  it("a dropped upstream connection: the next turn reconnects and sends in full", async () => {
    const chat = conversation();
    await chat.turn();
    upstream.dropConnections();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await chat.turn([userMessage("still there?")]);
    expect(next.terminalType).toBe("response.completed");
    expect(next.headers.get("x-turnpike-full-reason")).toBe("reconnect");
    expect(creates().at(-1)!.body.previous_response_id).toBeUndefined();
  });

  it("previous_response_not_found before any output: resent in full on a new connection, invisibly", async () => {
    const chat = conversation();
    await chat.turn();
    upstream.forgetPreviousResponses();
    const next = await chat.turn([userMessage("after amnesia")]);
    expect(next.terminalType).toBe("response.completed");
    const [, rejected, retried] = creates();
    expect(rejected!.body.previous_response_id).toBeTruthy();
    expect(retried!.body.previous_response_id).toBeUndefined();
    expect(sentInput(retried!).at(-1)).toEqual(userMessage("after amnesia"));
    // The client saw one response only.
    expect(next.events.filter((event) => event.event === "response.created")).toHaveLength(1);
  });

  it("a connection lost after output was forwarded ends the turn with response.failed, then resets", async () => {
    const chat = conversation();
    await chat.turn();
    upstream.script("connection-reset");
    const broken = await chat.turn([userMessage("break")]);
    expect(broken.terminalType).toBe("response.failed");
    expect(broken.response!.error!.code).toBe("upstream_disconnected");
    const next = await chat.turn([userMessage("retry")]);
    expect(next.terminalType).toBe("response.completed");
    expect(next.headers.get("x-turnpike-turn")).toBe("full");
  });

  it("an in-stream failure before output is reported as an HTTP error, not a stream", async () => {
    const chat = conversation();
    upstream.script("rate-limited");
    const limited = await chat.turn();
    expect(limited.status).toBe(429);
    expect((limited.body as { error: { type: string } }).error.type).toBe("usage_limit_reached");
  });

  it("two requests continuing one conversation at once: neither waits, both are answered (see session-chains.test.ts)", async () => {
    const chat = conversation();
    await chat.turn();
    upstream.script({ name: "slow", delayMs: 100 }, "ok");
    const { body: base } = capturedRequest("codex-http-turn1-request.json");
    const request = () =>
      postTurn(`${gateway.url}/v1/responses`, { ...base, input: [...(base.input as unknown[]), userMessage("parallel")] }, { authorization: `Bearer ${keyA}`, "session-id": chat.sessionId });
    const [one, two] = await Promise.all([request(), request()]);
    expect(one.terminalType).toBe("response.completed");
    expect(two.terminalType).toBe("response.completed");
  });
});

describe("a silent upstream in a session", () => {
  it("is retried once on a new connection, then fails within the idle limits instead of hanging", async () => {
    const local = await startGateway({ UPSTREAM_URL: upstream.url, STREAM_IDLE_TIMEOUT_MS: "1000" });
    try {
      const chat = conversation({ url: () => local.url });
      // Silent once: nothing reached the client, so the turn is retried on a new connection.
      upstream.script("silent");
      const recovered = await chat.turn();
      expect(recovered.terminalType).toBe("response.completed");
      // Silent twice: a 504, after two idle limits at most.
      upstream.script("silent", "silent");
      const started = Date.now();
      const silent = await chat.turn([userMessage("again")]);
      expect(silent.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await local.close();
    }
  });
});

describe("connection lifetime and restarts", () => {
  it("the provider's connection limit: transparent full send on a new connection", async () => {
    const limited = await startFakeUpstream({ connectionLimitMs: 800 });
    const local = await startGateway({ UPSTREAM_URL: limited.url });
    try {
      const chat = conversation({ url: () => local.url });
      await chat.turn();
      await new Promise((resolve) => setTimeout(resolve, 900));
      const next = await chat.turn([userMessage("later")]);
      expect(next.terminalType).toBe("response.completed");
      const sent = limited.requests.filter((request) => request.method === "WS");
      expect(sent.at(-1)!.body.previous_response_id).toBeUndefined();
      expect(new Set(sent.map((request) => request.connectionId)).size).toBe(2);
    } finally {
      await local.close();
      await limited.close();
    }
  });

  it("a socket older than SESSION_MAX_LIFETIME_MS is replaced before the next turn", async () => {
    const local = await startGateway({ UPSTREAM_URL: upstream.url, SESSION_MAX_LIFETIME_MS: "500" });
    try {
      const chat = conversation({ url: () => local.url });
      await chat.turn();
      await new Promise((resolve) => setTimeout(resolve, 600));
      const next = await chat.turn([userMessage("fresh socket")]);
      expect(next.headers.get("x-turnpike-full-reason")).toBe("reconnect");
      expect(new Set(creates().map((request) => request.connectionId)).size).toBe(2);
    } finally {
      await local.close();
    }
  });

  it("a restarted Worker (memory gone, storage kept) recovers with a full send", async () => {
    const storage = mkdtempSync(join(tmpdir(), "turnpike-restart-"));
    try {
      const first = await startGateway({ UPSTREAM_URL: upstream.url }, { persistTo: storage });
      let url = first.url;
      const chat = conversation({ url: () => url });
      await chat.turn();
      await first.close();
      const second = await startGateway({ UPSTREAM_URL: upstream.url }, { persistTo: storage });
      url = second.url;
      try {
        const next = await chat.turn([userMessage("after restart")]);
        expect(next.terminalType).toBe("response.completed");
        expect(next.headers.get("x-turnpike-full-reason")).toBe("reconnect");
        const third = await chat.turn([userMessage("and on")]);
        expect(third.headers.get("x-turnpike-turn")).toBe("delta");
      } finally {
        await second.close();
      }
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
