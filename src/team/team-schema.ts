/**
 * The team's tables in D1 — gateway keys (a person or a machine each) and one usage row per
 * request. migrations/ creates them (`npm start` locally, `wrangler d1 migrations apply --remote`
 * for a deployment); the Worker also creates any that is missing the first time an isolate uses
 * the database, so a deployment whose migrations were not applied (its database provisioned by
 * `wrangler deploy`) still works. The statements are the migration's, kept the same by
 * test/e2e/team-schema.test.ts; every one is idempotent. A later change is a new migration and
 * the same statements here (guarded so they run once), never an edit of these.
 */

export const teamSchemaStatements = [
  `CREATE TABLE IF NOT EXISTS gateway_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- SHA-256 of the key, hex; the key itself is shown once, at creation, and never stored.
    key_hash TEXT NOT NULL UNIQUE,
    -- The first characters, for telling keys apart in lists ("tpk_3f9a…").
    prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER,
    -- JSON list of model patterns the key may use; NULL: every model.
    models TEXT,
    -- JSON {requests_per_minute, tokens_per_day, tokens_per_month, concurrent_streams}, each optional.
    limits TEXT
  )`,
  `CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    route TEXT NOT NULL,
    client_model TEXT,
    upstream_model TEXT,
    account_id TEXT,
    status INTEGER,
    terminal TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    ttfb_ms INTEGER,
    duration_ms INTEGER,
    turn TEXT,
    session TEXT,
    -- Estimated cost in millionths of a US dollar (the price table in src/team/prices.ts).
    cost_micro_usd INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX IF NOT EXISTS usage_at ON usage (at)`,
  `CREATE INDEX IF NOT EXISTS usage_key_at ON usage (key_id, at)`,
];

const made = new WeakSet<D1Database>();

/**
 * Resolves once the tables exist. Once made, never asked again in the isolate; until then every
 * caller asks itself, not awaiting another's write: a D1 call is I/O of the request or object
 * that started it, and another context's promise may never settle for this one.
 */
export async function ensureTeamSchema(db: D1Database): Promise<void> {
  if (made.has(db)) return;
  await db.batch(teamSchemaStatements.map((statement) => db.prepare(statement)));
  made.add(db);
}
