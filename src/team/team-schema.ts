/**
 * The team's tables in D1 — gateway keys (a person or a machine each) and one usage row per
 * request. migrations/ creates them (`npm start` locally, `wrangler d1 migrations apply --remote`
 * for a deployment); the Worker also creates any that is missing the first time an isolate uses
 * the database, so a deployment whose migrations were not applied (its database provisioned by
 * `wrangler deploy`) still works. The statements are the migration's, kept the same by
 * test/e2e/team-schema.test.ts; every one is idempotent. A later change is a new migration and
 * the same statements in team-schema-statements.ts (guarded so they run once), never an edit.
 */
import { teamSchemaStatements } from "./team-schema-statements";

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
