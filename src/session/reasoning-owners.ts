/**
 * Which account produced each reasoning item of a session. Encrypted reasoning is bound to the
 * account (and its key) that produced it; after a session moves, the new account rejects the
 * old one's items (`invalid_encrypted_content`), so they are left out of what is sent.
 */
import { isRecord } from "../streams/responses-event";
import type { ChainStore } from "./chain-store";

/** Enough for a long session; the oldest entries go first. */
const maxEntries = 2_000;

export class ReasoningOwners {
  #owners: Record<string, string>;

  constructor(private readonly store: ChainStore) {
    this.#owners = JSON.parse(store.value("reasoning_owners") ?? "{}") as Record<string, string>;
  }

  record(outputItems: unknown[], accountId: string): void {
    let changed = false;
    for (const item of outputItems) {
      if (isRecord(item) && item.type === "reasoning" && typeof item.id === "string" && this.#owners[item.id] !== accountId) {
        delete this.#owners[item.id];
        this.#owners[item.id] = accountId;
        changed = true;
      }
    }
    if (!changed) return;
    const ids = Object.keys(this.#owners);
    for (const id of ids.slice(0, Math.max(0, ids.length - maxEntries))) delete this.#owners[id];
    this.store.setValue("reasoning_owners", JSON.stringify(this.#owners));
  }

  /** The request without reasoning items that another account produced. */
  stripForeign(request: Record<string, unknown>, accountId: string): Record<string, unknown> {
    if (!Array.isArray(request.input)) return request;
    const input = request.input.filter((item) => {
      if (!isRecord(item) || item.type !== "reasoning" || typeof item.id !== "string") return true;
      const owner = this.#owners[item.id];
      return owner === undefined || owner === accountId;
    });
    return input.length === request.input.length ? request : { ...request, input };
  }
}
