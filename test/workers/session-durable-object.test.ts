// The session Durable Object inside workerd: storage round trips past the 2 MB row limit,
// restart recovery from storage, and the alarm that closes an idle upstream socket.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SessionDurableObject } from "../../src/session/session-durable-object";
import { sessionObjectName } from "../../src/session/session-identity";
import type { SessionSnapshot } from "../../src/session/turn-planner";

const namespace = (env as unknown as { SESSIONS: DurableObjectNamespace<SessionDurableObject> }).SESSIONS;
const worker = (exports as unknown as { default: Fetcher }).default;

function snapshotWith(items: string[]): SessionSnapshot {
  return { lastResponseId: "resp_1", fieldsKey: "{}", inputItems: items, outputItems: [{ type: "message", big: "y".repeat(2_500_000) }], connectionGeneration: 1 };
}

describe("session storage", () => {
  it("round-trips items larger than a 2 MB row, and appends on delta turns", async () => {
    const stub = namespace.get(namespace.idFromName("storage-test"));
    await runInDurableObject(stub, async (instance) => {
      const huge = JSON.stringify({ role: "user", content: "é".repeat(3_000_000) }); // ~6 MB of UTF-8
      const first = snapshotWith([huge, '{"role":"user","content":"b"}']);
      instance.store.saveSnapshot(first);
      expect(instance.store.loadSnapshot()).toEqual(first);

      const appended = { ...first, lastResponseId: "resp_2", inputItems: [...first.inputItems, '{"role":"user","content":"c"}'] };
      instance.store.saveSnapshot(appended, first.inputItems.length);
      const loaded = instance.store.loadSnapshot()!;
      expect(loaded.lastResponseId).toBe("resp_2");
      expect(loaded.inputItems).toEqual(appended.inputItems);
      expect(instance.store.storedInputCount()).toBe(3);
      instance.store.clearSnapshot();
      expect(instance.store.loadSnapshot()).toBeUndefined();
    });
  });
});

async function turn(sessionId: string, input: unknown[]) {
  const response = await worker.fetch("http://gateway.test/v1/responses", {
    method: "POST",
    headers: { authorization: "Bearer test-key-1", "session-id": sessionId },
    body: JSON.stringify({ model: "gpt-5.5", input }),
  });
  return { mode: response.headers.get("x-turnpike-turn"), reason: response.headers.get("x-turnpike-full-reason"), body: (await response.json()) as { id: string; output: unknown[] } };
}

describe("the session object through the Worker (built-in mock upstream)", () => {
  it("continues as a delta, and recovers from a restart with a full send", async () => {
    const user = (text: string) => ({ role: "user", content: [{ type: "input_text", text }] });
    const first = await turn("restart-test", [user("one")]);
    expect(first.mode).toBe("full");
    const second = await turn("restart-test", [user("one"), ...first.body.output, user("two")]);
    expect(second.mode).toBe("delta");

    // Memory gone, storage kept: what an eviction or a deploy does.
    const ids = [];
    for (const id of await (await import("cloudflare:test")).listDurableObjectIds(namespace)) ids.push(id);
    for (const id of ids) {
      await runInDurableObject(namespace.get(id), (_instance, state) => {
        state.abort("simulated restart");
      }).catch(() => {});
    }
    const third = await turn("restart-test", [user("one"), ...first.body.output, user("two"), ...second.body.output, user("three")]);
    expect(third).toMatchObject({ mode: "full", reason: "reconnect" });
    expect((third.body.output.at(-1) as { content: { text: string }[] }).content[0]!.text).toBe("Echo: three");
  });

  it("the alarm closes an idle upstream socket", async () => {
    await turn("alarm-test", [{ role: "user", content: "hi" }]);
    const ids = [];
    for (const id of await (await import("cloudflare:test")).listDurableObjectIds(namespace)) ids.push(id);
    let closed = 0;
    for (const id of ids) {
      const stub = namespace.get(id);
      const open = await runInDurableObject(stub, (instance) => {
        const session = instance.session;
        if (session.socketOpenedAt === undefined) return false;
        session.lastActivity = Date.now() - 60 * 60_000;
        return true;
      });
      if (!open) continue;
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await runInDurableObject(stub, (instance) => instance.session.socketOpenedAt)).toBeUndefined();
      closed += 1;
    }
    expect(closed).toBeGreaterThan(0);
  });

  it("a WebSocket client's upgrade opens the upstream socket, and the idle alarm is set for it", async () => {
    const response = await worker.fetch("http://gateway.test/v1/responses", {
      headers: { authorization: "Bearer test-key-1", "session-id": "upgrade-alarm", upgrade: "websocket" },
    });
    expect(response.status).toBe(101);
    // The built-in mock's socket sends a turn state on its upgrade, like older ChatGPT backends.
    expect(response.headers.get("x-codex-turn-state")).toMatch(/^mock-turn-/);
    response.webSocket!.accept();
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("test-key-1"));
    const keyId = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, 32);
    const stub = namespace.get(namespace.idFromName(await sessionObjectName(keyId, "upgrade-alarm")));
    expect(await runInDurableObject(stub, (instance) => instance.session.socketOpenedAt)).toBeDefined();
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
    response.webSocket!.close(1000, "done");
  });

  it("turns keep the alarm set on the first turn; a fired alarm re-arms for what is left", async () => {
    const user = (text: string) => ({ role: "user", content: [{ type: "input_text", text }] });
    const first = await turn("alarm-once", [user("one")]);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("test-key-1"));
    const keyId = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, 32);
    const stub = namespace.get(namespace.idFromName(await sessionObjectName(keyId, "alarm-once")));
    const firstAlarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(firstAlarm).toBeGreaterThan(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await turn("alarm-once", [user("one"), ...first.body.output, user("two")]);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBe(firstAlarm);
    // The alarm fires early (activity moved the idle deadline): the socket stays, a new alarm is set.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (instance) => instance.session.socketOpenedAt)).toBeDefined();
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
  });
});
