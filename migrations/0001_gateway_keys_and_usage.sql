-- Gateway keys (a person or a machine of the team each) and one usage row per request.
-- Applied by `npm start` locally and by `wrangler d1 migrations apply DB --remote` for a deployment.
-- src/team/team-schema-statements.ts holds the same statements (the Worker creates a missing table itself);
-- test/e2e/team-schema.test.ts keeps the two the same.

CREATE TABLE IF NOT EXISTS gateway_keys (
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
);

CREATE TABLE IF NOT EXISTS usage (
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
);

CREATE INDEX IF NOT EXISTS usage_at ON usage (at);
CREATE INDEX IF NOT EXISTS usage_key_at ON usage (key_id, at);
