/**
 * The one place tries of the admin key are judged (failed-sign-ins.ts): a single Durable Object
 * for the whole deployment, so that the count holds across isolates and locations. A try is
 * judged in one synchronous call — locked?, right?, counted — so that guesses sent all at once
 * are counted one after the other, and none is compared while the address is locked. The key is
 * compared here by its SHA-256 (the Worker hashes both), never sent or stored as it is.
 *
 * Only a request that presents a key asks (the API with a Bearer key, the sign-in form), never
 * the gateway's own traffic. Failures are rows in the object's SQLite, expired with the window
 * and at most `maxRows` in all, so an eviction does not reset a lockout and storage is bounded.
 */
import { DurableObject } from "cloudflare:workers";
import type { Context } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { keysMatch } from "../../middleware/gateway-auth";
import { sha256Hex } from "../../team/gateway-keys";
import { addressGroup, lockedForSeconds, maxFailures, signInWindowMs } from "./failed-sign-ins";

export type AdminKeyVerdict = { kind: "right" } | { kind: "wrong" } | { kind: "locked"; retryAfterSeconds: number };

const maxRows = 20_000;
const encoder = new TextEncoder();

export class AdminGuardDurableObject extends DurableObject<Record<string, unknown>> {
  #inserts = 0;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS failures (address TEXT NOT NULL, at INTEGER NOT NULL)`);
    ctx.storage.sql.exec(`CREATE INDEX IF NOT EXISTS failures_by_address ON failures (address, at)`);
  }

  /** One try of the admin key from `address`: refused while locked, else compared, and counted when wrong. */
  tryKey(address: string, presentedHash: string, expectedHash: string): AdminKeyVerdict {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const recent = sql.exec<{ at: number }>(`SELECT at FROM failures WHERE address = ? AND at > ? ORDER BY at DESC LIMIT ?`, address, now - signInWindowMs, maxFailures).toArray();
    const retryAfterSeconds = lockedForSeconds(recent.map((row) => row.at), now);
    if (retryAfterSeconds > 0) return { kind: "locked", retryAfterSeconds };
    const [presented, expected] = [encoder.encode(presentedHash), encoder.encode(expectedHash)];
    if (presented.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(presented, expected)) return { kind: "right" };
    sql.exec(`INSERT INTO failures (address, at) VALUES (?, ?)`, address, now);
    this.#inserts += 1;
    if (this.#inserts % 64 === 0) {
      sql.exec(`DELETE FROM failures WHERE at <= ?`, now - signInWindowMs);
      sql.exec(`DELETE FROM failures WHERE rowid IN (SELECT rowid FROM failures ORDER BY at DESC LIMIT -1 OFFSET ?)`, maxRows);
    }
    return { kind: "wrong" };
  }
}

interface GuardStub {
  tryKey(address: string, presentedHash: string, expectedHash: string): Promise<AdminKeyVerdict>;
}

function guardOf(environment: Record<string, unknown> | undefined): GuardStub | undefined {
  const namespace = environment?.ADMIN_GUARD as DurableObjectNamespace | undefined;
  if (!namespace || typeof namespace.idFromName !== "function") return undefined;
  return namespace.get(namespace.idFromName("admin-guard")) as unknown as GuardStub;
}

/**
 * How the guard judges `presented`: the admin key, another, or refused because the client's
 * address tried too many wrong keys lately. Without the guard's binding (a test calling the app
 * directly), compared here.
 */
export async function tryAdminKey(context: Context<GatewayEnv>, presented: string, adminKey: string): Promise<AdminKeyVerdict> {
  const guard = guardOf(context.env as Record<string, unknown> | undefined);
  if (!guard) return (await keysMatch(presented, adminKey)) ? { kind: "right" } : { kind: "wrong" };
  // Cloudflare sets it; a client cannot through the edge.
  const address = addressGroup(context.req.header("cf-connecting-ip") ?? "unknown");
  return guard.tryKey(address, await sha256Hex(presented), await expectedHash(adminKey));
}

/** Whether `presented` is the admin key; a 429 with Retry-After when the address is locked out. */
export async function isAdminKey(context: Context<GatewayEnv>, presented: string, adminKey: string): Promise<boolean> {
  const verdict = await tryAdminKey(context, presented, adminKey);
  if (verdict.kind === "locked") throw lockedOut(verdict.retryAfterSeconds);
  return verdict.kind === "right";
}

export function lockedOut(retryAfterSeconds: number): GatewayError {
  return new GatewayError("rate_limited", `Too many wrong admin keys from this address; try again in ${retryAfterSeconds} s.`, {
    code: "too_many_sign_in_failures",
    headers: new Headers({ "retry-after": String(retryAfterSeconds) }),
  });
}

let expected: { key: string; hash: string } | undefined;

async function expectedHash(adminKey: string): Promise<string> {
  if (expected?.key !== adminKey) expected = { key: adminKey, hash: await sha256Hex(adminKey) };
  return expected.hash;
}
