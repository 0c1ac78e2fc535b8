import { describe, expect, it } from "vitest";
import { UsageRecorder, usageRecorder, type UsageRow } from "./usage-recorder";

function row(keyId: string): UsageRow {
  return {
    at: Date.now(), key_id: keyId, protocol: "responses", route: "/v1/responses", client_model: "gpt-5.5", upstream_model: "gpt-5.5", account_id: null, status: 200, terminal: "completed",
    input_tokens: 1, cached_tokens: 0, output_tokens: 1, reasoning_tokens: 0, ttfb_ms: 1, duration_ms: 1, turn: null, session: null, cost_micro_usd: 0,
  };
}

/** A D1 stand-in whose batches of rows fail `failures` times before they succeed; it keeps what was written. */
function flakyDatabase(failures: number) {
  const written: unknown[][] = [];
  let calls = 0;
  const database = {
    prepare: (sql: string) => ({ sql, values: [], bind: (...values: unknown[]) => ({ sql, values }) }),
    batch: async (statements: { sql: string; values: unknown[] }[]) => {
      // The tables' creation (team-schema.ts) always succeeds.
      if (statements.every((statement) => statement.sql.startsWith("CREATE"))) return [];
      calls++;
      if (calls <= failures) throw new Error("D1_ERROR: overloaded");
      // A batch's rows are one parameter: a JSON array of each row's values, in column order.
      for (const statement of statements) if (statement.sql.startsWith("INSERT")) written.push(...(JSON.parse(statement.values[0] as string) as unknown[][]));
      return [];
    },
  };
  return { database: database as unknown as D1Database, written, calls: () => calls };
}

async function settled(recorder: UsageRecorder, keyIds: string[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (const keyId of keyIds) recorder.record(row(keyId), (promise) => pending.push(promise));
  await Promise.all(pending);
}

describe("usage recorder", () => {
  it("hands each request's waitUntil a promise of that call, never one an earlier request made", async () => {
    const { database } = flakyDatabase(0);
    const recorder = new UsageRecorder(database);
    const handed: Promise<unknown>[] = [];
    recorder.record(row("key_a"), (promise) => handed.push(promise));
    recorder.record(row("key_b"), (promise) => handed.push(promise));
    // A Durable Object that waits on another request's promise is broken by workerd when it settles.
    expect(handed).toHaveLength(2);
    expect(handed[1]).not.toBe(handed[0]);
    await Promise.all(handed);
  });

  it("rows recorded together still go in one batch, written once", async () => {
    const { database, written, calls } = flakyDatabase(0);
    await settled(new UsageRecorder(database), ["key_a", "key_b", "key_c"]);
    expect(written.map((values) => values[1])).toEqual(["key_a", "key_b", "key_c"]);
    expect(calls()).toBe(1);
  });

  it("a batch D1 fails briefly is written once, after a retry", async () => {
    const { database, written, calls } = flakyDatabase(1);
    await settled(new UsageRecorder(database), ["key_a", "key_b"]);
    expect(written).toHaveLength(2);
    expect(calls()).toBe(2);
  });

  it("when D1 keeps failing the batch is given up (logged), and later rows are still written", async () => {
    const { database, written } = flakyDatabase(3);
    const recorder = new UsageRecorder(database);
    await settled(recorder, ["key_lost"]);
    expect(written).toHaveLength(0);
    await settled(recorder, ["key_next"]);
    expect(written.map((values) => values[1])).toEqual(["key_next"]);
  });

  it("one recorder per execution context: a context's waitUntil only ever gets its own batch's promise", async () => {
    const { database, written } = flakyDatabase(0);
    const [first, second] = [{}, {}];
    expect(usageRecorder(database, first)).toBe(usageRecorder(database, first));
    expect(usageRecorder(database, first)).not.toBe(usageRecorder(database, second));
    const kept = new Map<object, Promise<unknown>[]>([[first, []], [second, []]]);
    usageRecorder(database, first).record(row("key_first"), (promise) => kept.get(first)!.push(promise));
    usageRecorder(database, second).record(row("key_second"), (promise) => kept.get(second)!.push(promise));
    const [ownFirst, ownSecond] = [kept.get(first)!, kept.get(second)!];
    expect(ownFirst).toHaveLength(1);
    expect(ownSecond).toHaveLength(1);
    expect(ownFirst[0]).not.toBe(ownSecond[0]);
    await Promise.all([...ownFirst, ...ownSecond]);
    expect(written).toHaveLength(2);
  });
});
