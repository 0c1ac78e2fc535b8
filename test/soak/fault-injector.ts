// The fake upstream's side of the soak: finds the turn a request belongs to (by the tag the
// client put in its newest input item) and hands the fake the primitive of that turn's planned
// fault, once — on the turn's first upstream request, so that a gateway's invisible retry meets
// a healthy upstream. Also refuses the upstream WebSocket upgrades a fault armed.
import type { FaultInjector, InjectedTurn, UpgradeRefusal, UpstreamRequest } from "../support/fake-upstream/server";
import { primitiveFor, upgradeRefusalFor, type PlannedFault } from "./fault-kinds";

/** Header every soak client sends; the gateway forwards `x-codex-*` headers, upgrades included. */
export const soakSessionHeader = "x-codex-soak-session";

export interface InjectedTurnRecord {
  tag: string;
  conversationId: string;
  reply: "message" | "function_call";
  fault: PlannedFault;
  paceMs: number;
  /** The fault reached the upstream's answer (not every planned fault can: see primitiveFor). */
  fired: boolean;
  /** What the upstream saw for this turn, in order (for the report). */
  upstream: string[];
  /** When the gateway let go of the turn's upstream response before its end. */
  abandonedAt?: number;
}

const tagPattern = /#soak:([a-z0-9.]+)#/g;

export function tagText(tag: string): string {
  return `#soak:${tag}#`;
}

export class SoakInjector implements FaultInjector {
  readonly #turns = new Map<string, InjectedTurnRecord>();
  /** Upgrade refusals armed per conversation (the soak session header's value). */
  readonly #refusals = new Map<string, { turn: InjectedTurnRecord; refusal: UpgradeRefusal }>();

  register(turn: Omit<InjectedTurnRecord, "fired" | "upstream">): InjectedTurnRecord {
    const record = { ...turn, fired: false, upstream: [] };
    this.#turns.set(turn.tag, record);
    return record;
  }

  /** Refuses the conversation's next upstream upgrade (a fault planned before its socket opens). */
  armUpgradeRefusal(record: InjectedTurnRecord): void {
    const refusal = upgradeRefusalFor(record.fault);
    if (refusal) this.#refusals.set(record.conversationId, { turn: record, refusal });
  }

  /** The turn is over: nothing it armed may touch a later turn. */
  finish(record: InjectedTurnRecord): void {
    const armed = this.#refusals.get(record.conversationId);
    if (armed?.turn === record) this.#refusals.delete(record.conversationId);
  }

  forRequest(request: UpstreamRequest): InjectedTurn | undefined {
    const record = this.#recordOf(request);
    if (!record) return undefined;
    const first = !record.upstream.some((line) => line.includes(" → "));
    // A refusal armed before the socket opened (a client's upgrade) may already have fired.
    const fault = first && !record.fired ? primitiveFor(record.fault, request.transport, request.body) : undefined;
    if (fault) {
      if (fault.type === "cut" && (record.fault.kind === "refuse-upgrade" || record.fault.kind === "html-503")) {
        // The drop makes the gateway open a new socket: that upgrade is the refused one.
        this.armUpgradeRefusal(record);
        record.fired = true;
      } else if (fault.type === "leftover" && request.transport === "websocket") {
        // Fires when the leftover goes out, if a next response ever comes on this connection.
      } else {
        record.fired = true;
      }
    }
    record.upstream.push(`${describeRequest(request)}${fault ? ` → ${JSON.stringify(fault).slice(0, 160)}` : " → normal"}`);
    return { reply: record.reply, tag: tagText(record.tag), paceMs: record.paceMs, ...(fault ? { fault } : {}) };
  }

  onRefused(request: UpstreamRequest, code: string): void {
    const record = this.#recordOf(request);
    if (!record) return;
    const first = !record.upstream.some((line) => line.includes(" → "));
    // The provider refusing the chain on the turn's first request is what this fault is.
    if (first && code === "previous_response_not_found" && record.fault.kind === "previous-not-found") record.fired = true;
    const last = record.upstream[record.upstream.length - 1];
    // The refusal of the request just logged, or of one that never reached the injector.
    if (code === "previous_response_not_found" && last?.endsWith("→ normal")) record.upstream[record.upstream.length - 1] = `${last} → refused: ${code}`;
    else record.upstream.push(`${describeRequest(request)} refused: ${code}`);
  }

  onAbandoned(turn: InjectedTurn): void {
    const record = this.#turns.get(untag(turn.tag));
    if (record) record.abandonedAt ??= Date.now();
  }

  onLeftoverSent(owner: InjectedTurn, next: UpstreamRequest): void {
    const record = this.#turns.get(untag(owner.tag));
    if (!record) return;
    record.fired = true;
    record.upstream.push(`leftover sent before the next create (${describeRequest(next)}, tag ${newestTag(next.body?.input) ?? "none"})`);
  }

  #recordOf(request: UpstreamRequest): InjectedTurnRecord | undefined {
    const tag = newestTag(request.body?.input);
    return tag === undefined ? undefined : this.#turns.get(tag);
  }

  forUpgrade(headers: Record<string, string>): UpgradeRefusal | undefined {
    const conversationId = headers[soakSessionHeader];
    const armed = conversationId === undefined ? undefined : this.#refusals.get(conversationId);
    if (!armed) return undefined;
    this.#refusals.delete(conversationId!);
    armed.turn.fired = true;
    armed.turn.upstream.push(`upgrade refused with ${armed.refusal.status} (${armed.refusal.contentType})`);
    return armed.refusal;
  }
}

function untag(text: string): string {
  return text.replace(/^#soak:|#$/g, "");
}

function describeRequest(request: UpstreamRequest): string {
  const chained = typeof request.body?.previous_response_id === "string" ? `chained on ${request.body.previous_response_id}` : "full";
  return `${request.transport} ${chained}`;
}

/** The tag of the newest client item that has one: a user message or a tool output. */
export function newestTag(input: unknown): string | undefined {
  if (!Array.isArray(input)) return undefined;
  for (let index = input.length - 1; index >= 0; index -= 1) {
    const text = clientText(input[index]);
    const matches = text === undefined ? [] : [...text.matchAll(tagPattern)];
    if (matches.length > 0) return matches[matches.length - 1]![1];
  }
  return undefined;
}

function clientText(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const record = item as Record<string, unknown>;
  if (record.type === "function_call_output") return typeof record.output === "string" ? record.output : JSON.stringify(record.output);
  if (record.role !== "user") return undefined;
  return typeof record.content === "string" ? record.content : JSON.stringify(record.content);
}
