// Many sessions at once, each recording usage (the Worker in workerd with its D1 database): no
// session object may be discarded between turns. One object handing another's promise to its
// `waitUntil` made the runtime discard it as broken, so later turns went in full (`reconnect`)
// and client sockets were cut (1006); the usage recorder is per execution context since.
// The built-in mock upstream shows it: its sockets live in the session object's memory, so a
// discarded object's next turn finds no socket.
import { afterAll, beforeAll, expect, it } from "vitest";
import { capturedRequest, postTurn, reorderKeys, userMessage } from "../support/codex-like";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startInMiniflare(new URL("../../wrangler.toml", import.meta.url).pathname, {});
});
afterAll(async () => {
  await gateway?.close();
});

it("24 sessions at once, 3 turns each: every later turn is a delta on the same object", { timeout: 120_000 }, async () => {
  const { body: base } = capturedRequest("codex-http-turn1-request.json");
  const session = async (index: number) => {
    const sessionId = `concurrent-${index}-${Date.now()}`;
    let input = [...(base.input as unknown[]), userMessage(`session ${index}`)];
    const kinds: string[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const result = await postTurn(`${gateway.url}/v1/responses`, { ...base, input, prompt_cache_key: sessionId }, { "session-id": sessionId });
      kinds.push(result.headers.get("x-turnpike-turn") === "delta" ? "delta" : `full:${result.headers.get("x-turnpike-full-reason")}`);
      input = [...input, ...result.outputItems.map(reorderKeys), userMessage(`turn ${turn + 1}`)];
    }
    return kinds;
  };
  const runs = await Promise.all(Array.from({ length: 24 }, (_, index) => session(index)));
  expect(runs).toEqual(runs.map(() => ["full:first_turn", "delta", "delta"]));
});
