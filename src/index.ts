/**
 * Worker entry point. Requests flow: `inbound/` (the protocol the client speaks) →
 * `session/` (the Durable Object holding a conversation's upstream socket and state) →
 * `upstream/` (the provider), with `streams/` parsing and supervising between them.
 */
import { app } from "./app";

export { SessionDurableObject } from "./session/session-durable-object";
export { AccountStateDurableObject } from "./accounts/account-state-durable-object";
export { ChatGptAccountDurableObject } from "./upstream/chatgpt/chatgpt-account-durable-object";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Record<string, unknown>>;
