// The session Durable Object inside workerd: chains (one conversation each) routed from the
// captured Claude Code and Codex requests, storage per chain past the 2 MB row limit, restart
// recovery from storage, eviction, the alarm that closes idle sockets and expires storage.
import { env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { SessionDurableObject } from "../../src/session/session-durable-object";
import { sessionObjectName } from "../../src/session/session-identity";
import { RequestLog } from "../../src/middleware/request-log";
import { capturedBody, capturedHeaders } from "./support/client-fixtures";

const namespace = (env as unknown as { SESSIONS: DurableObjectNamespace<SessionDurableObject> }).SESSIONS;
const worker = (exports as unknown as { default: Fetcher }).default;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary JSON
type Json = any;

const user = (text: string) => ({ role: "user", content: [{ type: "input_text", text }] });

interface Turn {
  mode: string | null;
  reason: string | null;
  chain: string | null;
  chains: string | null;
  body: Json;
}

async function post(path: string, sessionId: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Turn> {
  const response = await worker.fetch(`http://gateway.test${path}`, {
    method: "POST",
    headers: { authorization: "Bearer test-key-1", "session-id": sessionId, ...headers },
    body: JSON.stringify(body),
  });
  const header = (name: string) => response.headers.get(name);
  return { mode: header("x-turnpike-turn"), reason: header("x-turnpike-full-reason"), chain: header("x-turnpike-chain"), chains: header("x-turnpike-chains"), body: await response.json() };
}

const turn = (sessionId: string, input: unknown[], fields: Record<string, unknown> = {}) => post("/v1/responses", sessionId, { model: "gpt-5.5", ...fields, input });

async function stubFor(sessionId: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("test-key-1"));
  const keyId = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, 32);
  return namespace.get(namespace.idFromName(await sessionObjectName(keyId, sessionId)));
}

/** Memory gone, storage kept: what an eviction or a deploy does. */
async function restartAll(): Promise<void> {
  const ids = [];
  for (const id of await listDurableObjectIds(namespace)) ids.push(id);
  for (const id of ids) {
    await runInDurableObject(namespace.get(id), (_instance, state) => {
      state.abort("simulated restart");
    }).catch(() => {});
  }
}

describe("chain storage", () => {
  it("round-trips items larger than a 2 MB row, and appends on delta turns", async () => {
    const stub = namespace.get(namespace.idFromName("storage-test"));
    await runInDurableObject(stub, async (instance) => {
      const store = instance.store;
      const huge = JSON.stringify({ role: "user", content: "é".repeat(3_000_000) }); // ~6 MB of UTF-8
      const header = { id: "c1", lastResponseId: "resp_1", connectionGeneration: 1, accountId: "mock", inputCount: 2, retainedCharacters: 0, firstItemKey: undefined, lastActivity: 1 };
      const output = JSON.stringify({ type: "message", big: "y".repeat(2_500_000) });
      store.saveTurn(header, { fieldsKey: '{"model":"m"}', inputItems: [huge, '{"role":"user","content":"b"}'], keptInputItems: 0, outputItems: [output] });
      expect(store.items("c1", "input")).toEqual([huge, '{"role":"user","content":"b"}']);
      expect(store.items("c1", "output")).toEqual([output]);
      expect(store.items("c1", "fields")).toEqual(['{"model":"m"}']);

      store.saveTurn({ ...header, lastResponseId: "resp_2", inputCount: 3 }, { inputItems: [huge, '{"role":"user","content":"b"}', '{"role":"user","content":"c"}'], keptInputItems: 2, outputItems: [] });
      expect(store.items("c1", "input")).toHaveLength(3);
      expect(store.items("c1", "fields")).toEqual(['{"model":"m"}']);
      expect(store.headers().find((entry) => entry.id === "c1")?.lastResponseId).toBe("resp_2");
      store.deleteChain("c1");
      expect(store.items("c1", "input")).toEqual([]);
      expect(store.headers()).toEqual([]);
    });
  });
});

describe("chains: several conversations under one session id", () => {
  it("continues as a delta, and recovers from a restart with a full send", async () => {
    const first = await turn("restart-test", [user("one")]);
    expect(first).toMatchObject({ mode: "full", reason: "first_turn", chain: "c1" });
    const second = await turn("restart-test", [user("one"), ...first.body.output, user("two")]);
    expect(second).toMatchObject({ mode: "delta", chain: "c1" });
    await restartAll();
    const third = await turn("restart-test", [user("one"), ...first.body.output, user("two"), ...second.body.output, user("three")]);
    expect(third).toMatchObject({ mode: "full", reason: "reconnect", chain: "c1" });
    expect(third.body.output.at(-1).content[0].text).toBe("Echo: three");
  });

  it("Claude Code: a side request with another model between main turns leaves the main chain a delta", async () => {
    const session = `claude-side-${Date.now()}`;
    const headers = { ...capturedHeaders("claudeTurn1"), "x-claude-code-session-id": session, "x-api-key": "test-key-1" };
    const main = capturedBody("claudeTurn1") as Json;
    const messages = (extra: Json[]) => ({ ...main, messages: [...main.messages, ...extra], stream: false });
    const first = await post("/v1/messages", session, messages([]), headers);
    expect(first).toMatchObject({ chain: "c1" });
    // The side request (a title, a topic check): the small model, its own prompt.
    const side = await post("/v1/messages", session, { model: "claude-haiku-4-5", max_tokens: 512, messages: [{ role: "user", content: "Write a title for: say hi" }] }, headers);
    expect(side).toMatchObject({ chain: "c2", reason: "new_chain" });
    const second = await post("/v1/messages", session, messages([{ role: "assistant", content: first.body.content }, { role: "user", content: "and now?" }]), headers);
    expect(second).toMatchObject({ mode: "delta", chain: "c1", chains: "2" });
  });

  it("two interleaved conversations each continue on their own chain", async () => {
    const session = `interleaved-${Date.now()}`;
    const a1 = await turn(session, [user("conversation a")]);
    const b1 = await turn(session, [user("conversation b")]);
    expect([a1.chain, b1.chain, b1.reason]).toEqual(["c1", "c2", "new_chain"]);
    const a2 = await turn(session, [user("conversation a"), ...a1.body.output, user("a again")]);
    const b2 = await turn(session, [user("conversation b"), ...b1.body.output, user("b again")]);
    expect([a2.mode, a2.chain, b2.mode, b2.chain]).toEqual(["delta", "c1", "delta", "c2"]);
  });

  it("Codex: the captured tool round trip continues on its chain; another conversation does not disturb it", async () => {
    const session = `codex-${Date.now()}`;
    const request = capturedBody("codexToolRequest1");
    const first = await turn(session, request.input as unknown[], { ...request, stream: false });
    await turn(session, [user("a side conversation")], { ...request, stream: false });
    const output = first.body.output as Json[];
    const call = output.find((item) => item.type === "function_call");
    const resent = [...(request.input as unknown[]), ...output, { type: "function_call_output", call_id: call.call_id, output: "hello-from-tool" }];
    const second = await turn(session, resent, { ...request, stream: false });
    expect(second).toMatchObject({ mode: "delta", chain: first.chain });
  });

  it("past SESSION_MAX_CHAINS the least recently used chain goes, with its storage", async () => {
    const session = `eviction-${Date.now()}`;
    const firsts: Turn[] = [];
    for (let index = 0; index < 9; index += 1) firsts.push(await turn(session, [user(`conversation ${index}`)]));
    expect(firsts.at(-1)!.chains).toBe("8");
    const stub = await stubFor(session);
    // The last turn's storage write runs just after its terminal event has gone out.
    await vi.waitFor(async () => {
      const stored = await runInDurableObject(stub, (instance) => instance.store.headers().map((header) => header.id).sort());
      expect(stored).not.toContain("c1");
      expect(stored).toHaveLength(8);
    });
    // The evicted conversation starts over; a kept one continues.
    const evicted = await turn(session, [user("conversation 0"), ...firsts[0]!.body.output, user("more")]);
    expect(evicted.mode).toBe("full");
    const kept = await turn(session, [user("conversation 8"), ...firsts[8]!.body.output, user("more")]);
    expect(kept).toMatchObject({ mode: "delta", chain: firsts[8]!.chain });
  });

  it("a restart keeps every chain's retained input: a chained WebSocket-style turn is rebuilt in full", async () => {
    const session = `restart-chains-${Date.now()}`;
    const a = await turn(session, [user("first conversation")]);
    const b = await turn(session, [user("second conversation")]);
    await restartAll();
    // Chained by the client on b's response: the session rebuilds b's whole input.
    const chained = await post("/v1/responses", session, { model: "gpt-5.5", previous_response_id: b.body.id, input: [user("go on")] });
    expect(chained).toMatchObject({ mode: "full", reason: "reconnect", chain: b.chain });
    const stub = await stubFor(session);
    const chains = await runInDurableObject(stub, (instance) => instance.store.headers().length);
    expect(chains).toBe(2);
    expect(a.chain).not.toBe(b.chain);
  });
});

/** The session's next turn write throws once (a storage failure), then storage works again. */
async function failNextWrite(sessionId: string): Promise<void> {
  await runInDurableObject(await stubFor(sessionId), (instance) => {
    const store = instance.store as unknown as { saveTurn: (...args: unknown[]) => void };
    const original = store.saveTurn.bind(store);
    store.saveTurn = () => {
      store.saveTurn = original;
      throw new Error("simulated storage failure");
    };
  });
}

describe("retention failures", () => {
  it("a storage failure after the terminal event changes nothing the client saw; the next turn goes in full", async () => {
    const session = `storage-failure-${Date.now()}`;
    const first = await turn(session, [user("one")]);
    await failNextWrite(session);
    const second = await turn(session, [user("one"), ...first.body.output, user("two")]);
    expect(second.mode).toBe("delta");
    expect(second.body.status).toBe("completed");
    expect(second.body.output.at(-1).content[0].text).toBe("Echo: two");
    // The chain went back to what storage holds (the first turn), broken: the third goes in full.
    const third = await turn(session, [user("one"), ...first.body.output, user("two"), ...second.body.output, user("three")]);
    expect(third.mode).toBe("full");
  });

  it("after a failed write, a turn chained on the unretained response is refused, not rebuilt without it", async () => {
    const session = `storage-failure-chained-${Date.now()}`;
    const first = await turn(session, [user("one")]);
    await failNextWrite(session);
    const second = await turn(session, [user("one"), ...first.body.output, user("two")]);
    expect(second.body.status).toBe("completed");
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Rebuilding from storage would leave "two" and its answer out of the conversation.
    const onSecond = await post("/v1/responses", session, { model: "gpt-5.5", previous_response_id: second.body.id, input: [user("three")] });
    expect(onSecond.body.error?.code).toBe("previous_response_not_found");
    // The first response is still retained whole: a turn chained on it is rebuilt from it.
    const onFirst = await post("/v1/responses", session, { model: "gpt-5.5", previous_response_id: first.body.id, input: [user("again")] });
    expect(onFirst).toMatchObject({ mode: "full" });
    expect(onFirst.body.output.at(-1).content[0].text).toBe("Echo: again");
  });
});

describe("when a turn is written", () => {
  it("after its terminal event has been handed on: a write would hold the client's last bytes", async () => {
    const session = `write-after-terminal-${Date.now()}`;
    const first = await turn(session, [user("one")]);
    const stub = await stubFor(session);
    let secondId = "";
    await runInDurableObject(stub, async (instance) => {
      const store = instance.store as unknown as { saveTurn: (...args: unknown[]) => void };
      const original = store.saveTurn.bind(store);
      let writes = 0;
      store.saveTurn = (...args: unknown[]) => {
        writes += 1;
        original(...args);
      };
      try {
        const started = await instance.startTurn({ model: "gpt-5.5", stream: true, input: [user("one"), ...first.body.output, user("two")] }, new Headers(), new RequestLog());
        expect(started.mode).toBe("delta");
        let writesAtTerminal: number | undefined;
        for (;;) {
          const { done, value } = await started.events.read();
          if (done) break;
          const terminal = value.find((event) => event.type === "response.completed");
          if (!terminal) continue;
          writesAtTerminal = writes;
          secondId = JSON.parse(terminal.data).response.id;
        }
        started.release();
        expect(writesAtTerminal).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 5));
        expect(writes).toBe(1);
      } finally {
        store.saveTurn = original;
      }
      // Storage holds the second turn: its output is the chain's retained output.
      const [header] = instance.store.headers();
      expect(instance.store.items(header!.id, "output").map((text) => JSON.parse(text).content[0].text)).toEqual(["Echo: two"]);
    });
    // After a restart (storage only), a turn chained on the second response is rebuilt from it.
    await restartAll();
    const chained = await post("/v1/responses", session, { model: "gpt-5.5", previous_response_id: secondId, input: [user("three")] });
    expect(chained).toMatchObject({ mode: "full", reason: "reconnect" });
    expect(chained.body.output.at(-1).content[0].text).toBe("Echo: three");
  });
});

describe("the alarm", () => {
  it("closes an idle upstream socket, and keeps the chain's retained input", async () => {
    const session = `alarm-idle-${Date.now()}`;
    const first = await turn(session, [user("hi")]);
    const stub = await stubFor(session);
    await runInDurableObject(stub, (instance) => {
      expect(instance.session.hasOpenSocket()).toBe(true);
      const chain = (instance.session as unknown as { nextSocketDeadline(): number }).nextSocketDeadline();
      expect(chain).toBeGreaterThan(Date.now());
    });
    // Make the socket idle: the session's clock says its last turn was long ago.
    await runInDurableObject(stub, (instance) => {
      (instance.session as unknown as { closeDueSockets(now: number): void }).closeDueSockets(Date.now() + 60 * 60_000);
      expect(instance.session.hasOpenSocket()).toBe(false);
    });
    const next = await turn(session, [user("hi"), ...first.body.output, user("later")]);
    expect(next).toMatchObject({ mode: "full", reason: "reconnect", chain: first.chain });
  });

  it("a WebSocket client's upgrade opens the upstream socket, and the idle alarm is set for it", async () => {
    const response = await worker.fetch("http://gateway.test/v1/responses", {
      headers: { authorization: "Bearer test-key-1", "session-id": "upgrade-alarm", upgrade: "websocket" },
    });
    expect(response.status).toBe(101);
    // The built-in mock's socket sends a turn state on its upgrade, like older ChatGPT backends.
    expect(response.headers.get("x-codex-turn-state")).toMatch(/^mock-turn-/);
    response.webSocket!.accept();
    const stub = await stubFor("upgrade-alarm");
    expect(await runInDurableObject(stub, (instance) => instance.session.hasOpenSocket())).toBe(true);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
    response.webSocket!.close(1000, "done");
  });

  it("turns keep the alarm set on the first turn; a fired alarm re-arms for what is left", async () => {
    const first = await turn("alarm-once", [user("one")]);
    const stub = await stubFor("alarm-once");
    const firstAlarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(firstAlarm).toBeGreaterThan(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await turn("alarm-once", [user("one"), ...first.body.output, user("two")]);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBe(firstAlarm);
    // The alarm fires early (activity moved the idle deadline): the socket stays, a new alarm is set.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (instance) => instance.session.hasOpenSocket())).toBe(true);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
  });

  it("deletes the session's storage SESSION_RETENTION_MS after its last turn", async () => {
    const session = `retention-${Date.now()}`;
    await turn(session, [user("remember me")]);
    const stub = await stubFor(session);
    await runInDurableObject(stub, (instance) => expect(instance.store.headers()).toHaveLength(1));
    // The alarm runs 25 hours later: the last turn was longer ago than the retention (24 h by default).
    const later = Date.now() + 25 * 60 * 60_000;
    const clock = vi.spyOn(Date, "now").mockReturnValue(later);
    try {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    } finally {
      clock.mockRestore();
    }
    await runInDurableObject(stub, async (instance, state) => {
      expect(instance.store.headers()).toEqual([]);
      expect(instance.store.value("chain_counter")).toBeUndefined();
      expect(await state.storage.getAlarm()).toBeNull();
    });
    // The session starts over.
    expect((await turn(session, [user("hello again")])).reason).toBe("first_turn");
  });

  it("a WebSocket that named no session leaves nothing behind when it closes", async () => {
    const before = new Set<string>();
    for (const id of await listDurableObjectIds(namespace)) before.add(id.toString());
    const response = await worker.fetch("http://gateway.test/v1/responses", { headers: { authorization: "Bearer test-key-1", upgrade: "websocket" } });
    const socket = response.webSocket!;
    socket.accept();
    const frames: Json[] = [];
    socket.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    socket.send(JSON.stringify({ type: "response.create", model: "gpt-5.5", input: "ephemeral" }));
    for (let waited = 0; !frames.some((frame) => frame.type === "response.completed") && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    const created = [];
    for (const id of await listDurableObjectIds(namespace)) if (!before.has(id.toString())) created.push(id);
    expect(created).toHaveLength(1);
    const stub = namespace.get(created[0]!);
    expect(await runInDurableObject(stub, (instance) => instance.store.headers().length)).toBe(1);
    socket.close(1000, "bye");
    for (let waited = 0; waited < 5_000; waited += 20) {
      if ((await runInDurableObject(stub, (instance) => instance.store.headers().length)) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await runInDurableObject(stub, (instance) => instance.store.headers().length)).toBe(0);
  });
});

describe("idle upstream sockets", () => {
  it("only the most recently used chains keep theirs open", async () => {
    const session = `sockets-${Date.now()}`;
    for (let index = 0; index < 7; index += 1) await turn(session, [user(`one-shot ${index}`)]);
    const stub = await stubFor(session);
    expect(await runInDurableObject(stub, (instance) => instance.store.headers().length)).toBe(7);
    expect(await runInDurableObject(stub, (instance) => instance.session.openSocketCount())).toBe(4);
  });
});

describe("which session a request names", () => {
  it("opencode's x-session-id: two conversations under it are two chains of one session, not two derived sessions", async () => {
    const session = `ses_${Date.now()}`;
    const chat = (text: string) =>
      worker.fetch("http://gateway.test/v1/chat/completions", {
        method: "POST",
        headers: { authorization: "Bearer test-key-1", "x-session-id": session },
        body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: text }] }),
      });
    const first = await chat("first conversation");
    await first.text();
    const second = await chat("second conversation");
    await second.text();
    expect(second.headers.get("x-turnpike-chains")).toBe("2");
  });
});

describe("a session request its headers refuse", () => {
  it("gets its 413 or 415 from the Worker, and never reaches a session object (its body is not left unread mid-pipe)", async () => {
    const before = (await listDurableObjectIds(namespace)).length;
    const refused = (headers: Record<string, string>) =>
      worker.fetch("http://gateway.test/v1/responses", {
        method: "POST",
        headers: { authorization: "Bearer test-key-1", "session-id": `refused-${Date.now()}`, ...headers },
        body: new Blob([JSON.stringify({ model: "gpt-5.5", input: "hi" })]).stream(),
        duplex: "half",
      } as RequestInit);
    const compressed = await refused({ "content-encoding": "br" });
    expect(compressed.status).toBe(415);
    expect(((await compressed.json()) as Json).error.type).toBe("invalid_request_error");
    const large = await refused({ "content-length": String(64 * 1024 * 1024) });
    expect(large.status).toBe(413);
    await large.text();
    expect((await listDurableObjectIds(namespace)).length).toBe(before);
  });
});
