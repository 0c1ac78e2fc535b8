/**
 * Worker entry point. Requests flow: `inbound/` (the protocol the client speaks) →
 * `session/` (the Durable Object holding a conversation's upstream socket and state) →
 * `upstream/` (the provider), with `streams/` parsing and supervising between them.
 */
import { app } from "./app";
import { loadConfiguration } from "./configuration/configuration";
import { teamServices } from "./team/caller";
import { deleteOldUsage } from "./team/usage-recorder";

export { SessionDurableObject } from "./session/session-durable-object";
export { AccountStateDurableObject } from "./accounts/account-state-durable-object";
export { ChatGptAccountDurableObject } from "./upstream/chatgpt/chatgpt-account-durable-object";
export { KeyGateDurableObject } from "./team/key-gate-durable-object";
export { AdminGuardDurableObject } from "./inbound/admin/admin-guard-durable-object";

export default {
  fetch: app.fetch,
  /** Daily: usage rows past USAGE_RETENTION_DAYS go. */
  async scheduled(_controller, environment, _context) {
    const db = teamServices(environment)?.db;
    if (!db) return;
    const deleted = await deleteOldUsage(db, loadConfiguration(environment).usageRetentionDays);
    console.log(JSON.stringify({ level: "info", message: "old usage rows deleted", rows: deleted }));
  },
} satisfies ExportedHandler<Record<string, unknown>>;
