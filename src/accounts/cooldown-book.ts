/**
 * This isolate's view of the shared cooldowns. Reads come from memory (refreshed from the
 * account-state object every few seconds, in the background once warm) so that routing a
 * request costs no round trip; a failure is recorded here at once and sent to the shared object.
 */
import { proxyDurable } from "itty-durable/proxy-durable.js";
import type { CooldownEntry } from "./account-state-durable-object";
import { quotaReportDue, quotaWindowsFrom, type QuotaWindows } from "./quota-windows";

const refreshAfterMs = 5_000;

interface RemoteCooldowns {
  report(key: string, until: number, reason: string): Promise<Record<string, CooldownEntry>>;
  reportQuota(accountId: string, windows: QuotaWindows): Promise<void>;
  listQuotas(): Promise<Record<string, QuotaWindows>>;
  clear(accountId: string, model?: string): Promise<Record<string, CooldownEntry>>;
  list(): Promise<Record<string, CooldownEntry>>;
}

export class CooldownBook {
  #entries: Record<string, CooldownEntry> = {};
  #fetchedAt = 0;
  #refreshing: Promise<void> | undefined;
  readonly #namespace: DurableObjectNamespace | undefined;

  constructor(namespace: DurableObjectNamespace | undefined) {
    this.#namespace = namespace;
  }

  /** A stub per call: Durable Object stubs belong to the request that made them. */
  get #remote(): RemoteCooldowns | undefined {
    return this.#namespace ? (proxyDurable(this.#namespace, { name: "ACCOUNT_STATE", parse: true }).get("global") as RemoteCooldowns) : undefined;
  }

  /**
   * Makes sure the view is recent: awaited the first time, in the background afterwards. The book
   * is shared by the isolate's requests and objects; a first read awaits its own call, never one
   * another context started (that call is the other's I/O and may never settle for this one).
   */
  async refresh(): Promise<void> {
    const remote = this.#remote;
    if (!remote || Date.now() - this.#fetchedAt < refreshAfterMs) return;
    if (this.#fetchedAt === 0) {
      await this.#read(remote);
      return;
    }
    this.#refreshing ??= this.#read(remote).finally(() => (this.#refreshing = undefined));
  }

  #read(remote: RemoteCooldowns): Promise<void> {
    return remote
      .list()
      .then((entries) => {
        this.#entries = entries;
        this.#fetchedAt = Date.now();
      })
      .catch((error: unknown) => {
        // Routing without the shared view is still routing: the local view stays.
        console.error(JSON.stringify({ level: "warn", message: "cooldowns could not be read", error: String(error) }));
        this.#fetchedAt = Date.now();
      });
  }

  /** The cooldown in force for this account and model, if any. */
  cooldown(accountId: string, model: string, now = Date.now()): CooldownEntry | undefined {
    const entry = this.#entries[key(accountId, model)];
    return entry && entry.until > now ? entry : undefined;
  }

  async report(accountId: string, model: string, until: number, reason: string): Promise<void> {
    const entryKey = key(accountId, model);
    const existing = this.#entries[entryKey];
    if (!existing || existing.until < until) this.#entries = { ...this.#entries, [entryKey]: { until, reason } };
    const remote = this.#remote;
    if (!remote) return;
    try {
      this.#entries = await remote.report(entryKey, until, reason);
    } catch (error) {
      console.error(JSON.stringify({ level: "warn", message: "cooldown could not be shared", error: String(error) }));
    }
  }

  async clear(accountId: string, model?: string): Promise<void> {
    for (const entryKey of Object.keys(this.#entries)) {
      const [account, entryModel] = entryKey.split("\n");
      if (account === accountId && (model === undefined || model === entryModel)) delete this.#entries[entryKey];
    }
    const remote = this.#remote;
    if (remote) this.#entries = await (model === undefined ? remote.clear(accountId) : remote.clear(accountId, model));
  }

  /**
   * An answer's headers, for the account's usage windows (ChatGPT accounts report them): shared
   * now and then, never awaited on the request's path.
   */
  observeQuota(accountId: string, headers: Headers, waitUntil?: (promise: Promise<unknown>) => void): void {
    const remote = this.#remote;
    if (!remote) return;
    const windows = quotaWindowsFrom(headers);
    if (!windows || !quotaReportDue(accountId)) return;
    const reporting = remote.reportQuota(accountId, windows).catch((error: unknown) => {
      console.error(JSON.stringify({ level: "warn", message: "usage windows could not be shared", error: String(error) }));
    });
    waitUntil?.(reporting);
  }

  async quotas(): Promise<Record<string, QuotaWindows>> {
    const remote = this.#remote;
    return remote ? remote.listQuotas() : {};
  }

  /** Everything in force, for the admin view. */
  async all(): Promise<Record<string, CooldownEntry>> {
    const remote = this.#remote;
    if (remote) this.#entries = await remote.list();
    return this.#entries;
  }
}

function key(accountId: string, model: string): string {
  return `${accountId}\n${model}`;
}
