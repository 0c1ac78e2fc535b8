/**
 * Worker entry point. Requests flow: `inbound/` (the protocol the client speaks) →
 * `streams/` (parsing, supervision, translation) → `upstream/` (the provider).
 */
import { app } from "./app";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Record<string, unknown>>;
