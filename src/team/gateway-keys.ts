/**
 * Gateway keys kept in D1: one per person or machine of a team. A key is `tpk_` + 40 random
 * characters, shown once when it is created; D1 keeps its SHA-256 and a short prefix for lists,
 * never the key. Every change is also written to the key's gate object (key-gate-durable-object.ts),
 * which every request asks, so a revocation holds everywhere on the next request.
 */
import * as z from "zod/mini";
import { GatewayError } from "../errors/gateway-error";
import "../shared/schema-messages";
import type { GateStatus, KeyGateDurableObject, KeyRecord } from "./key-gate-durable-object";
import { ensureTeamSchema } from "./team-schema";

export const keyPrefix = "tpk_";

const positiveCount = z.optional(z.number({ error: "must be a number" }).check(z.int("must be a whole number"), z.positive("must be greater than zero")));

export const limitsSchema = z.strictObject({
  requests_per_minute: positiveCount,
  tokens_per_day: positiveCount,
  tokens_per_month: positiveCount,
  concurrent_streams: positiveCount,
});

const modelsSchema = z.optional(z.nullable(z.array(z.string().check(z.minLength(1), z.maxLength(200))).check(z.maxLength(100))));

export const createKeySchema = z.strictObject({
  name: z.string().check(z.trim(), z.minLength(1, "must not be empty"), z.maxLength(100)),
  models: modelsSchema,
  limits: z.optional(limitsSchema),
});
export const updateKeySchema = z.strictObject({
  name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))),
  models: modelsSchema,
  limits: z.optional(limitsSchema),
});

export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  models: string[] | null;
  limits: z.infer<typeof limitsSchema>;
}

interface StoredRow {
  id: string;
  name: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  models: string | null;
  limits: string | null;
}

export interface KeyServices {
  db: D1Database;
  gates: DurableObjectNamespace<KeyGateDurableObject>;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function gateFor(gates: KeyServices["gates"], keyHash: string): DurableObjectStub<KeyGateDurableObject> {
  return gates.get(gates.idFromName(keyHash));
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomText(length: number): string {
  // 62 does not divide 256: bytes of 248 and over are drawn again, so every character is as likely.
  let text = "";
  while (text.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) if (byte < 248 && text.length < length) text += alphabet[byte % 62];
  }
  return text;
}

export async function createKey(services: KeyServices, input: z.infer<typeof createKeySchema>): Promise<{ key: string; row: KeyRow }> {
  const key = `${keyPrefix}${randomText(40)}`;
  const row: KeyRow = {
    id: `key_${randomText(12)}`,
    name: input.name,
    prefix: key.slice(0, keyPrefix.length + 6),
    created_at: Date.now(),
    last_used_at: null,
    revoked_at: null,
    models: input.models ?? null,
    limits: input.limits ?? {},
  };
  const hash = await sha256Hex(key);
  await services.db
    .prepare(`INSERT INTO gateway_keys (id, name, key_hash, prefix, created_at, models, limits) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .bind(row.id, row.name, hash, row.prefix, row.created_at, row.models ? JSON.stringify(row.models) : null, JSON.stringify(row.limits))
    .run();
  await gateFor(services.gates, hash).configure(recordOf(row));
  teamKeysSeen = true;
  return { key, row };
}

// Once a team has keys the gateway is no longer open (GATEWAY_OPEN=auto). Seeing keys is final;
// not seeing any is asked again after a while, so a key created through another isolate closes
// this one within that while too.
let teamKeysSeen = false;
let noTeamKeysUntil = 0;
const noTeamKeysRecheckMs = 30_000;

/** Whether any team key was ever created (revoked ones count): then no request is served without one. */
export async function teamKeysExist(db: D1Database): Promise<boolean> {
  if (teamKeysSeen) return true;
  if (Date.now() < noTeamKeysUntil) return false;
  await ensureTeamSchema(db);
  const found = await db.prepare(`SELECT 1 AS found FROM gateway_keys LIMIT 1`).first<{ found: number }>();
  teamKeysSeen = found !== null;
  if (!teamKeysSeen) noTeamKeysUntil = Date.now() + noTeamKeysRecheckMs;
  return teamKeysSeen;
}

export async function listKeys(db: D1Database): Promise<KeyRow[]> {
  const { results } = await db.prepare(`SELECT * FROM gateway_keys ORDER BY created_at DESC`).all<StoredRow>();
  return results.map(rowOf);
}

export async function updateKey(services: KeyServices, id: string, patch: z.infer<typeof updateKeySchema>): Promise<KeyRow> {
  const stored = await storedKey(services.db, id);
  const row = rowOf(stored);
  const next: KeyRow = { ...row, name: patch.name ?? row.name, models: patch.models === undefined ? row.models : patch.models, limits: patch.limits ?? row.limits };
  await services.db
    .prepare(`UPDATE gateway_keys SET name = ?, models = ?, limits = ? WHERE id = ?`)
    .bind(next.name, next.models ? JSON.stringify(next.models) : null, JSON.stringify(next.limits), id)
    .run();
  await gateFor(services.gates, stored.key_hash).configure(recordOf(next));
  return next;
}

export async function revokeKey(services: KeyServices, id: string): Promise<KeyRow> {
  const stored = await storedKey(services.db, id);
  const row = { ...rowOf(stored), revoked_at: stored.revoked_at ?? Date.now() };
  // The gate first: it is what requests ask, and from now on it refuses the key.
  await gateFor(services.gates, stored.key_hash).configure(recordOf(row));
  await services.db.prepare(`UPDATE gateway_keys SET revoked_at = ? WHERE id = ?`).bind(row.revoked_at, id).run();
  return row;
}

/** A key as listed, and how much of its limits its gate counts as used now (snake_case, as the rest of the API). */
export async function keyStatus(services: KeyServices, id: string) {
  const stored = await storedKey(services.db, id);
  const status = await gateFor(services.gates, stored.key_hash).status();
  return {
    ...rowOf(stored),
    in_use: { requests_last_minute: status.requestsLastMinute, streams: status.streams, tokens_today: status.tokensToday, tokens_this_month: status.tokensThisMonth },
  };
}

/**
 * The gate's view of every key not revoked, for the admin page's list: one query for their
 * hashes, the gates asked in parallel. A gate that does not answer leaves its key out.
 */
export async function activeKeyStatuses(services: KeyServices): Promise<Map<string, GateStatus>> {
  const { results } = await services.db.prepare(`SELECT id, key_hash FROM gateway_keys WHERE revoked_at IS NULL`).all<{ id: string; key_hash: string }>();
  const answers = await Promise.allSettled(results.map(async (row): Promise<[string, GateStatus]> => [row.id, await gateFor(services.gates, row.key_hash).status()]));
  return new Map(answers.flatMap((answer) => (answer.status === "fulfilled" ? [answer.value] : [])));
}

async function storedKey(db: D1Database, id: string): Promise<StoredRow> {
  const stored = await db.prepare(`SELECT * FROM gateway_keys WHERE id = ?`).bind(id).first<StoredRow>();
  if (!stored) throw new GatewayError("not_found", `No key '${id.slice(0, 64)}'.`);
  return stored;
}

function rowOf(stored: StoredRow): KeyRow {
  return {
    id: stored.id,
    name: stored.name,
    prefix: stored.prefix,
    created_at: stored.created_at,
    last_used_at: stored.last_used_at,
    revoked_at: stored.revoked_at,
    models: stored.models ? (JSON.parse(stored.models) as string[]) : null,
    limits: stored.limits ? (JSON.parse(stored.limits) as KeyRow["limits"]) : {},
  };
}

function recordOf(row: KeyRow): KeyRecord {
  return { id: row.id, name: row.name, revokedAt: row.revoked_at, models: row.models, limits: row.limits };
}
