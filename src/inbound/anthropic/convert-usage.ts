/**
 * Responses `usage` → Anthropic `usage`.
 *
 * The two APIs count cached input differently (docs/protocol.md §5): OpenAI's `input_tokens`
 * includes `input_tokens_details.cached_tokens`, Anthropic's `input_tokens` excludes cache reads,
 * which are reported apart in `cache_read_input_tokens`. Passing OpenAI's number through would
 * make clients bill every cached token twice, at the full input price.
 */
import { isRecord } from "../../streams/responses-event";

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  /** OpenAI caches implicitly and reports no cache writes, so this is always 0. */
  cache_creation_input_tokens: number;
}

export function anthropicUsage(openAiUsage: unknown): AnthropicUsage {
  const usage = isRecord(openAiUsage) ? openAiUsage : {};
  const details = isRecord(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const inputTokens = tokenCount(usage.input_tokens);
  // A cached count above the total would be an upstream bug; never report negative input.
  const cachedTokens = Math.min(tokenCount(details.cached_tokens), inputTokens);
  return {
    input_tokens: inputTokens - cachedTokens,
    output_tokens: tokenCount(usage.output_tokens),
    cache_read_input_tokens: cachedTokens,
    cache_creation_input_tokens: 0,
  };
}

function tokenCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
