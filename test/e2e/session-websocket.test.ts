// Responses WebSocket mode towards clients: Codex's warm-up, chained turns and tool outputs,
// error frames, and recovery when the upstream connection is replaced between turns.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { capturedRequest, userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startGateway, type Gateway } from "../support/start-gateway";
import { connectResponsesSocket } from "../support/ws-client";

const key = "gw-ws-key-0123456789";
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

const creates = () => upstream.requests.filter((request) => request.method === "WS");
const wsUrl = () => `${gateway.url.replace(/^http/, "ws")}/v1/responses`;

function codexMessage(name: string): Record<string, unknown> {
  return capturedRequest(name).body as Record<string, unknown>;
}

async function connect(sessionId = `ws-session-${Date.now()}-${counter++}`) {
  return connectResponsesSocket(wsUrl(), { authorization: `Bearer ${key}`, "session-id": sessionId, "openai-beta": "responses_websockets=2026-02-06" });
}

describe("Codex over WebSocket", () => {
  it("warm-up, a chained turn and a tool output go upstream as sent, on one connection", async () => {
    const client = await connect();
    try {
      const warmUp = await client.create(codexMessage("codex-ws-msg1-prewarm-generate-false.json"));
      expect(warmUp.map((event) => event.type)).toEqual(["response.created", "response.completed"]);
      const warmUpId = (warmUp.at(-1)!.response as { id: string }).id;

      upstream.script("function-call");
      const turn = await client.create({ ...codexMessage("codex-ws-msg2-turn-previous_response_id.json"), previous_response_id: warmUpId });
      const completed = turn.at(-1)!;
      expect(completed.type).toBe("response.completed");
      const call = turn.find((event) => event.type === "response.output_item.done")!.item as { call_id: string };

      const tool = codexMessage("codex-ws-tool-msg3-function_call_output.json");
      const toolTurn = await client.create({
        ...tool,
        previous_response_id: (completed.response as { id: string }).id,
        input: [{ type: "function_call_output", call_id: call.call_id, output: "hello-from-tool" }],
      });
      expect(toolTurn.at(-1)!.type).toBe("response.completed");

      const sent = creates();
      expect(sent.map((request) => request.body.previous_response_id)).toEqual([undefined, warmUpId, (completed.response as { id: string }).id]);
      expect(sent[2]!.body.input).toEqual([{ type: "function_call_output", call_id: call.call_id, output: "hello-from-tool" }]);
      expect(new Set(sent.map((request) => request.connectionId)).size).toBe(1);
      // client_metadata (turn state, turn metadata) travels upstream untouched.
      expect(sent[1]!.body.client_metadata).toEqual(codexMessage("codex-ws-msg2-turn-previous_response_id.json").client_metadata);
    } finally {
      await client.close();
    }
  });

  it("when the upstream connection is replaced between turns, the chain is rebuilt into a full send", async () => {
    const client = await connect();
    try {
      const first = await client.create({ model: "gpt-5.5", input: [userMessage("one")] });
      const firstId = (first.at(-1)!.response as { id: string }).id;
      upstream.dropConnections();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await client.create({ model: "gpt-5.5", previous_response_id: firstId, input: [userMessage("two")] });
      expect(second.at(-1)!.type).toBe("response.completed");
      const rebuilt = creates().at(-1)!;
      expect(rebuilt.body.previous_response_id).toBeUndefined();
      const input = rebuilt.body.input as { role?: string; type?: string }[];
      expect(input[0]).toEqual(userMessage("one"));
      expect(input.at(-1)).toEqual(userMessage("two"));
      expect(input.some((item) => item.type === "message" && item.role === "assistant")).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("the legacy response.append extends the previous request", async () => {
    const client = await connect();
    try {
      const first = await client.create({ model: "gpt-5.5", input: [userMessage("start")] });
      const appended = await client.create({ type: "response.append", input: [userMessage("more")] });
      expect(appended.at(-1)!.type).toBe("response.completed");
      const sent = creates().at(-1)!;
      expect(sent.body.previous_response_id).toBe((first.at(-1)!.response as { id: string }).id);
      expect(sent.body.input).toEqual([userMessage("more")]);
    } finally {
      await client.close();
    }
  });
});

describe("error frames, never a dropped socket", () => {
  it("a second response.create while one is in flight gets an error frame", async () => {
    const client = await connect();
    try {
      upstream.script({ name: "slow", delayMs: 100 });
      client.send({ type: "response.create", model: "gpt-5.5", input: [userMessage("slow")] });
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.send({ type: "response.create", model: "gpt-5.5", input: [userMessage("too soon")] });
      const frames: Record<string, unknown>[] = [];
      while (!frames.some((frame) => frame.type === "response.completed")) frames.push(await client.next());
      const error = frames.find((frame) => frame.type === "error")!;
      expect(error).toMatchObject({ status: 409, error: { code: "response_in_progress" } });
      // The socket still works.
      const after = await client.create({ model: "gpt-5.5", input: [userMessage("after")] });
      expect(after.at(-1)!.type).toBe("response.completed");
    } finally {
      await client.close();
    }
  });

  it("bad frames get nested error frames with a status", async () => {
    const client = await connect();
    try {
      client.socket.send("not json");
      expect(await client.next()).toMatchObject({ type: "error", status: 400, error: { type: "invalid_request_error" } });
      client.send({ type: "response.create", input: "no model" });
      expect(await client.next()).toMatchObject({ type: "error", status: 400, error: { param: "model" } });
      client.send({ type: "session.update" });
      expect(await client.next()).toMatchObject({ type: "error", status: 400, error: { param: "type" } });
    } finally {
      await client.close();
    }
  });

  it("an upstream rate limit before output arrives as an error frame with its status", async () => {
    const client = await connect();
    try {
      upstream.script("rate-limited");
      const events = await client.create({ model: "gpt-5.5", input: [userMessage("x")] });
      expect(events.at(-1)).toMatchObject({ type: "error", status: 429 });
    } finally {
      await client.close();
    }
  });

  it("a wrong key is refused at the upgrade", async () => {
    await expect(connectResponsesSocket(wsUrl(), { authorization: "Bearer wrong" })).rejects.toThrow(/401/);
  });

  it("WEBSOCKET_MODE=off answers 426 so Codex falls back to HTTP", async () => {
    const local = await startGateway({ UPSTREAM_URL: upstream.url, WEBSOCKET_MODE: "off" });
    try {
      await expect(connectResponsesSocket(`${local.url.replace(/^http/, "ws")}/v1/responses`, {})).rejects.toThrow(/426/);
    } finally {
      await local.close();
    }
  });
});

describe("the upstream socket at the client's upgrade", () => {
  it("opens before the first turn, and the client's 101 carries its turn state (both ways)", async () => {
    const client = await connectResponsesSocket(wsUrl(), { authorization: `Bearer ${key}`, "session-id": `upgrade-${counter++}`, "x-codex-turn-state": "ts-from-client" });
    try {
      expect(client.upgradeHeaders["x-codex-turn-state"]).toMatch(/^ts-ws-\d+$/);
      const upgrades = upstream.requests.filter((request) => request.transport === "websocket" && request.method === "GET");
      expect(upgrades).toHaveLength(1);
      // The client's own turn state goes up on the upstream's upgrade.
      expect(upgrades[0]!.headers["x-codex-turn-state"]).toBe("ts-from-client");
      // The first turn goes on the connection opened at the upgrade.
      const events = await client.create({ model: "gpt-5.5", input: [userMessage("hi")] });
      expect(events.at(-1)!.type).toBe("response.completed");
      expect(creates()[0]!.connectionId).toBe(upgrades[0]!.connectionId);
      expect(`ts-ws-${upgrades[0]!.connectionId}`).toBe(client.upgradeHeaders["x-codex-turn-state"]);
    } finally {
      await client.close();
    }
  });

  it("an upstream that refuses the upgrade still lets the client in; the turn reports the error", async () => {
    upstream.setUpgradeStatus(503);
    const client = await connect();
    try {
      expect(client.upgradeHeaders["x-codex-turn-state"]).toBeUndefined();
      const events = await client.create({ model: "gpt-5.5", input: [userMessage("x")] });
      expect(events.at(-1)).toMatchObject({ type: "error", status: 503 });
    } finally {
      upstream.setUpgradeStatus(null);
      await client.close();
    }
  });
});

describe("an upstream that never answers the upgrade", () => {
  it("the client is let in within seconds, and its turn ends with an error frame, not a hang", async () => {
    const local = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", GATEWAY_KEYS: key, STREAM_IDLE_TIMEOUT_MS: "1500" });
    upstream.setUpgradeStatus("hang");
    try {
      const started = Date.now();
      const client = await connectResponsesSocket(`${local.url.replace(/^http/, "ws")}/v1/responses`, { authorization: `Bearer ${key}`, "session-id": `hang-${counter++}` });
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(client.upgradeHeaders["x-codex-turn-state"]).toBeUndefined();
      try {
        const events = await client.create({ model: "gpt-5.5", input: [userMessage("x")] });
        expect(events.at(-1)).toMatchObject({ type: "error", error: { message: expect.stringMatching(/did not answer the WebSocket upgrade within 2 s/) } });
      } finally {
        await client.close();
      }
    } finally {
      upstream.setUpgradeStatus(null);
      await local.close();
    }
  });
});

describe("keepalive frames towards WebSocket clients", () => {
  let fast: Gateway;
  beforeAll(async () => {
    fast = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", GATEWAY_KEYS: key, KEEPALIVE_INTERVAL_MS: "300" });
  });
  afterAll(async () => {
    await fast?.close();
  });

  const connectFast = () =>
    connectResponsesSocket(`${fast.url.replace(/^http/, "ws")}/v1/responses`, { authorization: `Bearer ${key}`, "session-id": `keepalive-${counter++}` });

  it("while the upstream is silent mid-turn, and between turns while the upstream socket is held", async () => {
    const client = await connectFast();
    try {
      upstream.script({ name: "silent-then-ok", silenceMs: 1_500 });
      const events = await client.create({ model: "gpt-5.5", input: [userMessage("think long")] });
      const keepalives = events.filter((event) => event.type === "turnpike:keepalive");
      expect(keepalives.length).toBeGreaterThanOrEqual(2);
      for (const keepalive of keepalives) expect(keepalive).toEqual({ type: "turnpike:keepalive", sequence_number: expect.any(Number) });
      expect(events.at(-1)!.type).toBe("response.completed");
      expect(events.filter((event) => event.type !== "turnpike:keepalive").map((event) => event.type)).toContain("response.output_item.done");

      // Between turns: the upstream socket stays open for the next turn, and so does this one.
      expect(await client.next()).toEqual({ type: "turnpike:keepalive", sequence_number: 0 });
      const second = await client.create({ model: "gpt-5.5", input: [userMessage("again")] });
      expect(second.at(-1)!.type).toBe("response.completed");
    } finally {
      await client.close();
    }
  });
});
