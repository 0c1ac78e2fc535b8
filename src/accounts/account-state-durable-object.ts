/**
 * Cooldowns of every (account, model), shared by all isolates and kept across restarts. Small
 * state and small arguments: an itty-durable object (the whole state is persisted as one value
 * after each call; arguments travel in a request header), one instance named "global".
 */
// The ES module files directly: the package index is CommonJS requiring ES modules.
import { createDurable } from "itty-durable/itty-durable.js";
import type { QuotaWindows } from "./quota-windows";

export interface CooldownEntry {
  /** Epoch ms when the account may be tried again for this model. */
  until: number;
  reason: string;
}

export class AccountStateDurableObject extends createDurable({ autoPersist: true }) {
  /** `${accountId}\n${model}` → cooldown. */
  cooldowns: Record<string, CooldownEntry> = {};
  /** Account id → its usage windows as last reported (ChatGPT accounts). */
  quotas: Record<string, QuotaWindows> = {};

  /** The account's latest usage windows (bounded: one entry per configured account). */
  reportQuota(accountId: string, windows: QuotaWindows): void {
    this.quotas = { ...this.quotas, [accountId]: windows };
    const ids = Object.keys(this.quotas);
    if (ids.length > 200) for (const id of ids.slice(0, ids.length - 200)) delete this.quotas[id];
  }

  listQuotas(): Record<string, QuotaWindows> {
    return this.quotas;
  }

  /** Records a cooldown; a longer one already in force is kept. Returns all current entries. */
  report(key: string, until: number, reason: string): Record<string, CooldownEntry> {
    const existing = this.cooldowns[key];
    if (!existing || existing.until < until) this.cooldowns = { ...this.cooldowns, [key]: { until, reason } };
    return this.list();
  }

  /** Clears an account's cooldowns (one model, or all). Returns all current entries. */
  clear(accountId: string, model?: string | null): Record<string, CooldownEntry> {
    const kept: Record<string, CooldownEntry> = {};
    for (const [key, entry] of Object.entries(this.cooldowns)) {
      const [account, entryModel] = key.split("\n");
      // Arguments arrive as JSON: an omitted model is null here.
      if (account === accountId && (model === undefined || model === null || model === entryModel)) continue;
      kept[key] = entry;
    }
    this.cooldowns = kept;
    return this.list();
  }

  /** Current entries; expired ones are dropped. */
  list(): Record<string, CooldownEntry> {
    const now = Date.now();
    const current: Record<string, CooldownEntry> = {};
    for (const [key, entry] of Object.entries(this.cooldowns)) if (entry.until > now) current[key] = entry;
    this.cooldowns = current;
    return current;
  }
}
