/**
 * `count_tokens`, from the gateway's side: the tokenizer Worker counts (src/tokenizer/), over
 * its service binding. A gateway deployed without it answers an estimate (about four characters
 * a token) rather than nothing: clients show a context meter from it (docs/protocol.md §5).
 */
import { GatewayError } from "../../errors/gateway-error";
import type { Tokenizer } from "../../tokenizer/tokenizer-worker";
import type { TokenCount } from "../../tokenizer/count-tokens";
import { estimateRequestTokens } from "../../tokenizer/request-texts";

let warnedAboutEstimates = false;

export async function countedTokens(environment: Record<string, unknown> | undefined, request: Record<string, unknown>): Promise<number> {
  const tokenizer = environment?.TOKENIZER as Service<Tokenizer> | undefined;
  if (!tokenizer || typeof tokenizer.countRequestTokens !== "function") {
    if (!warnedAboutEstimates) {
      warnedAboutEstimates = true;
      console.warn(JSON.stringify({ level: "warn", message: "the TOKENIZER binding is missing: count_tokens answers estimates (deploy tokenizer.wrangler.toml)" }));
    }
    return estimateRequestTokens(request);
  }
  let count: TokenCount;
  try {
    count = await tokenizer.countRequestTokens(request);
  } catch (error) {
    // The tokenizer Worker is not deployed, or failed: an estimate still serves the context meter.
    console.warn(JSON.stringify({ level: "warn", message: "the tokenizer Worker did not answer: count_tokens answers an estimate", error: String(error).slice(0, 200) }));
    return estimateRequestTokens(request);
  }
  if (count.kind === "too_large") {
    throw new GatewayError("payload_too_large", `count_tokens counts at most ${count.limit} characters of text; this request has ${count.characters}.`);
  }
  return count.tokens;
}
