/**
 * One usage row per request, written to D1 off the request's path: rows wait in memory and go in
 * one batch shortly after (at most `batchRows` at a time), the write kept alive with `waitUntil`,
 * so that no request waits for D1. Bounded: past `maxQueuedRows` waiting rows (D1 unreachable for
 * long), the oldest are dropped and counted in the log.
 *
 * A recorder belongs to one execution context (usageRecorder: a Worker request, or a Durable
 * Object), and each `record` call hands `waitUntil` a promise made in that call: a timer to the
 * batch's due time, then a flush (whichever timer fires first writes every waiting row; the
 * others find none left). A request must never wait on a promise another request made: workerd
 * (1.20260426) breaks a Durable Object whose last wait was such a promise when it settles — its
 * hibernatable client sockets drop with 1006, and its next turn finds a fresh object
 * (docs/reliability.md, "Promises never cross request contexts").
 */
import { ensureTeamSchema } from "./team-schema";

export interface UsageRow {
  at: number;
  key_id: string;
  protocol: string;
  route: string;
  client_model: string | null;
  upstream_model: string | null;
  account_id: string | null;
  status: number | null;
  terminal: string | null;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  ttfb_ms: number | null;
  duration_ms: number | null;
  turn: string | null;
  session: string | null;
  cost_micro_usd: number;
}

const columns: (keyof UsageRow)[] = [
  "at", "key_id", "protocol", "route", "client_model", "upstream_model", "account_id", "status", "terminal",
  "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens", "ttfb_ms", "duration_ms", "turn", "session", "cost_micro_usd",
];
/**
 * A whole batch in one statement with one parameter, the rows as a JSON array of arrays: one
 * statement is prepared, bound and answered instead of one per row (D1's client costs CPU per
 * statement, and a statement takes at most 100 parameters, five rows of these).
 */
const insert = `INSERT INTO usage (${columns.join(", ")}) SELECT ${columns.map((_, index) => `json_extract(value, '$[${index}]')`).join(", ")} FROM json_each(?)`;

/** How long a row waits for others to share its write. */
const batchDelayMs = 50;
const batchRows = 50;
const maxQueuedRows = 5_000;
/** A failed batch is tried this many times in all (D1 answers errors on brief blips: a restart, an overloaded replica). */
const writeAttempts = 3;
const retryDelayMs = 250;

export class UsageRecorder {
  #queue: UsageRow[] = [];
  /** When the waiting rows are written (a time, not a promise: see above); undefined when none wait. */
  #dueAt: number | undefined;
  #dropped = 0;

  constructor(private readonly db: D1Database) {}

  /** Queues a row; `waitUntil` keeps the invocation alive until it is written (by its own timer, or an earlier one). */
  record(row: UsageRow, waitUntil: ((promise: Promise<unknown>) => void) | undefined): void {
    this.#queue.push(row);
    if (this.#queue.length > maxQueuedRows) {
      this.#dropped += this.#queue.length - maxQueuedRows;
      this.#queue.splice(0, this.#queue.length - maxQueuedRows);
    }
    const now = Date.now();
    this.#dueAt ??= now + batchDelayMs;
    const flushed = new Promise((resolve) => setTimeout(resolve, Math.max(0, this.#dueAt! - now))).then(() => this.#flush());
    waitUntil?.(flushed);
  }

  async #flush(): Promise<void> {
    // Rows recorded from now on wait for a batch of their own.
    this.#dueAt = undefined;
    try {
      while (this.#queue.length > 0) {
        const rows = this.#queue.splice(0, batchRows);
        const error = await this.#writeWithRetry(rows);
        if (error !== undefined) {
          console.error(JSON.stringify({ level: "warn", message: "usage rows could not be written", rows: rows.length, error: String(error) }));
          // D1 is failing: the rows still waiting are tried with the next request's rows.
          break;
        }
      }
    } finally {
      if (this.#dropped > 0) {
        console.error(JSON.stringify({ level: "warn", message: "usage rows dropped: too many waiting", rows: this.#dropped }));
        this.#dropped = 0;
      }
    }
  }

  /** One batch, tried again after a pause when D1 fails it (a batch is one transaction: no row is written twice). */
  async #writeWithRetry(rows: UsageRow[]): Promise<unknown> {
    let failure: unknown;
    for (let attempt = 0; attempt < writeAttempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      try {
        await ensureTeamSchema(this.db);
        await this.db.batch(this.#statements(rows));
        return undefined;
      } catch (error) {
        failure = error;
      }
    }
    return failure ?? new Error("usage batch failed");
  }

  #statements(rows: UsageRow[]): D1PreparedStatement[] {
    const statements = [this.db.prepare(insert).bind(JSON.stringify(rows.map((row) => columns.map((column) => row[column]))))];
    // When each key was last used, from the same batch: no write on the request's path.
    const lastUsed = new Map<string, number>();
    for (const row of rows) if (row.key_id.startsWith("key_")) lastUsed.set(row.key_id, Math.max(lastUsed.get(row.key_id) ?? 0, row.at));
    for (const [id, at] of lastUsed) statements.push(this.db.prepare(`UPDATE gateway_keys SET last_used_at = ? WHERE id = ?`).bind(at, id));
    return statements;
  }
}

const recorders = new WeakMap<object, UsageRecorder>();

/**
 * The recorder of one execution context: a Worker request's, or a Durable Object's (all its
 * requests share it, so a session's rows go in batches). Never one context's for another: its
 * batch write is I/O of the context that started it, and a Durable Object handed another object's
 * promise to `waitUntil` is discarded by the runtime as broken (its sockets cut, its next turn a
 * fresh object). Without a context (a test calling the app directly), a recorder of its own.
 */
export function usageRecorder(db: D1Database, owner: object | undefined): UsageRecorder {
  if (!owner) return new UsageRecorder(db);
  let recorder = recorders.get(owner);
  if (!recorder) {
    recorder = new UsageRecorder(db);
    recorders.set(owner, recorder);
  }
  return recorder;
}

/** Usage rows older than `days` go (the scheduled handler, daily). */
export async function deleteOldUsage(db: D1Database, days: number, now = Date.now()): Promise<number> {
  await ensureTeamSchema(db);
  const result = await db.prepare(`DELETE FROM usage WHERE at < ?`).bind(now - days * 86_400_000).run();
  return result.meta.changes ?? 0;
}
