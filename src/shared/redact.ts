/** Providers sometimes echo a credential in what they say; it must not reach a client or a log. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length >= 8 && result.includes(secret)) result = result.split(secret).join("[redacted]");
  return result;
}

/**
 * Event types whose text can carry a provider's own words about a failure (and so, sometimes, a
 * credential). Only these are scanned: every other event passes without a look at its text.
 */
export const failureEventTypes: ReadonlySet<string> = new Set(["error", "response.failed", "response.incomplete"]);
