/**
 * The price table that usage costs are estimated from, in US dollars per million tokens. The
 * defaults are list prices as published for these models when this was written — estimates, not
 * a bill: an operator with other prices (a contract, another provider, a ChatGPT subscription
 * that bills nothing per token) sets `PRICES`, a JSON object of model patterns (`*` wildcards,
 * first match wins, before the defaults), e.g. `{"gpt-5.5*": {"input": 1.25, "cached_input":
 * 0.125, "output": 10}, "*": {"input": 0, "cached_input": 0, "output": 0}}`.
 *
 * Cached input tokens are part of the input count (OpenAI's meaning) and priced apart;
 * reasoning tokens are part of the output count and priced as output.
 */
import * as z from "zod/mini";
import { matchesPattern } from "../accounts/accounts-configuration";
import { GatewayError } from "../errors/gateway-error";
import "../shared/schema-messages";

export interface ModelPrice {
  input: number;
  cached_input: number;
  output: number;
}

export const defaultPrices: [string, ModelPrice][] = [
  ["gpt-5.5-mini*", { input: 0.25, cached_input: 0.025, output: 2 }],
  ["gpt-5.5*", { input: 1.25, cached_input: 0.125, output: 10 }],
  ["gpt-5.4*", { input: 1.25, cached_input: 0.125, output: 10 }],
  ["gpt-5*-codex*", { input: 1.25, cached_input: 0.125, output: 10 }],
  ["gpt-5*", { input: 1.25, cached_input: 0.125, output: 10 }],
];

const dollarsPerMillion = z.number().check(z.nonnegative());
const priceTableSchema = z.record(z.string(), z.strictObject({ input: dollarsPerMillion, cached_input: z.optional(dollarsPerMillion), output: dollarsPerMillion }));

export function parsePrices(text: string | undefined): [string, ModelPrice][] {
  if (!text) return defaultPrices;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError("configuration", "Gateway configuration is invalid: PRICES must be a JSON object of model patterns.");
  }
  const table = priceTableSchema.safeParse(parsed);
  if (!table.success) {
    const issue = table.error.issues[0];
    throw new GatewayError("configuration", `Gateway configuration is invalid: PRICES${issue?.path.length ? `.${issue.path.join(".")}` : ""} ${issue?.message ?? "is not a price table"}.`);
  }
  const own = Object.entries(table.data).map(([pattern, price]): [string, ModelPrice] => [pattern, { input: price.input, cached_input: price.cached_input ?? price.input, output: price.output }]);
  return [...own, ...defaultPrices];
}

export interface TokenCounts {
  input: number;
  cached: number;
  output: number;
}

/** The estimated cost in millionths of a dollar (a price per million tokens times tokens); 0 for a model the table does not know. */
export function costMicroUsd(prices: [string, ModelPrice][], model: string | undefined, tokens: TokenCounts): number {
  if (!model) return 0;
  const price = prices.find(([pattern]) => matchesPattern(pattern, model))?.[1];
  if (!price) return 0;
  const cached = Math.min(tokens.cached, tokens.input);
  return Math.round((tokens.input - cached) * price.input + cached * price.cached_input + tokens.output * price.output);
}
