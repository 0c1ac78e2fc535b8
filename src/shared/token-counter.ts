/**
 * The upstream models' tokenizer (o200k_base, via gpt-tokenizer), for local counts: the
 * Anthropic route's `count_tokens` and the gateway's own cut at a small output token limit.
 */

/** The tokenizer's tables are 2 MB: loaded on the first count, not on every cold start. */
let counter: Promise<(text: string) => number> | undefined;

export function loadTokenCounter(): Promise<(text: string) => number> {
  counter ??= import("gpt-tokenizer/encoding/o200k_base").then((module) => (text: string) => module.countTokens(text));
  return counter;
}
