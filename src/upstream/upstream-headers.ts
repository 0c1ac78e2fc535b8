/**
 * Which headers cross the gateway, in each direction. Allowlists, so that a client's gateway key,
 * cookies or Cloudflare's own headers never reach the provider, and nothing but routing and
 * rate-limit information comes back.
 */

/** Client request headers the provider uses for caching, routing and attribution (docs/protocol.md §3, §4). */
const forwardedRequestHeaders = [
  "session-id",
  "session_id",
  "thread-id",
  "thread_id",
  "conversation_id",
  "originator",
  "openai-beta",
  "x-client-request-id",
  "user-agent",
  "version",
];
const forwardedRequestPrefixes = ["x-codex-", "x-openai-"];

export function pickForwardedRequestHeaders(incoming: Headers): Headers {
  const picked = new Headers();
  for (const [name, value] of incoming) {
    if (forwardedRequestHeaders.includes(name) || forwardedRequestPrefixes.some((prefix) => name.startsWith(prefix))) {
      picked.set(name, value);
    }
  }
  return picked;
}

/** Provider response headers a client reads: sticky routing, rate limits, retry hints. */
const returnedResponseHeaders = ["retry-after", "retry-after-ms", "openai-model", "x-request-id", "x-models-etag"];
const returnedResponsePrefixes = ["x-codex-", "x-ratelimit-"];

export function pickReturnedResponseHeaders(upstream: Headers, into: Headers = new Headers()): Headers {
  for (const [name, value] of upstream) {
    if (returnedResponseHeaders.includes(name) || returnedResponsePrefixes.some((prefix) => name.startsWith(prefix))) {
      into.set(name, value);
    }
  }
  return into;
}
