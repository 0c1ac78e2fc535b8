/**
 * The one place failed tries of the admin key are counted (failed-sign-ins.ts): a single Durable
 * Object for the whole deployment, so that the count holds across isolates and locations. Only a
 * request that presents a key asks it (the API with a Bearer key, the sign-in form), never the
 * gateway's own traffic. Its book is stored, so an eviction does not reset a lockout.
 */
import { DurableObject } from "cloudflare:workers";
import type { Context } from "hono";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import { lockedForSeconds, noteFailure, type FailureBook } from "./failed-sign-ins";

export class AdminGuardDurableObject extends DurableObject<Record<string, unknown>> {
  #book: FailureBook | undefined;

  /** Seconds the address must wait before it may try the admin key again; 0: it may now. */
  lockedFor(address: string): number {
    return lockedForSeconds(this.#load(), address, Date.now());
  }

  failed(address: string): void {
    const book = noteFailure(this.#load(), address, Date.now());
    this.ctx.storage.kv.put("book", book);
  }

  #load(): FailureBook {
    this.#book ??= this.ctx.storage.kv.get<FailureBook>("book") ?? {};
    return this.#book;
  }
}

interface GuardStub {
  lockedFor(address: string): Promise<number>;
  failed(address: string): Promise<void>;
}

function guardOf(context: Context<GatewayEnv>): GuardStub | undefined {
  const namespace = (context.env as Record<string, unknown> | undefined)?.ADMIN_GUARD as DurableObjectNamespace | undefined;
  if (!namespace || typeof namespace.idFromName !== "function") return undefined;
  return namespace.get(namespace.idFromName("admin-guard")) as unknown as GuardStub;
}

/** The client's address as Cloudflare saw it (a client cannot set it through the edge). */
function addressOf(context: Context<GatewayEnv>): string {
  return context.req.header("cf-connecting-ip") ?? "unknown";
}

/** A 429 with Retry-After when this address failed too often lately; else nothing. */
export async function assertMayTryAdminKey(context: Context<GatewayEnv>): Promise<void> {
  const seconds = (await guardOf(context)?.lockedFor(addressOf(context))) ?? 0;
  if (seconds <= 0) return;
  throw new GatewayError("rate_limited", `Too many wrong admin keys from this address; try again in ${seconds} s.`, {
    code: "too_many_sign_in_failures",
    headers: new Headers({ "retry-after": String(seconds) }),
  });
}

export async function noteWrongAdminKey(context: Context<GatewayEnv>): Promise<void> {
  await guardOf(context)?.failed(addressOf(context));
}
