/**
 * Responses `usage` → Chat Completions `usage`.
 *
 * Both APIs count the same way (cached tokens are part of the input, reasoning tokens part of
 * the output), so this renames: `input_tokens` → `prompt_tokens` with
 * `prompt_tokens_details.cached_tokens`, `output_tokens` → `completion_tokens` with
 * `completion_tokens_details.reasoning_tokens`. Unlike the Anthropic conversion nothing is
 * subtracted.
 */
import { isRecord } from "../../streams/responses-event";

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export function chatUsage(responsesUsage: unknown): ChatUsage {
  const usage = isRecord(responsesUsage) ? responsesUsage : {};
  const inputDetails = isRecord(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const outputDetails = isRecord(usage.output_tokens_details) ? usage.output_tokens_details : {};
  const promptTokens = tokenCount(usage.input_tokens);
  const completionTokens = tokenCount(usage.output_tokens);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: usage.total_tokens !== undefined ? tokenCount(usage.total_tokens) : promptTokens + completionTokens,
    // A cached or reasoning count above its total would be an upstream bug; never report more.
    prompt_tokens_details: { cached_tokens: Math.min(tokenCount(inputDetails.cached_tokens), promptTokens) },
    completion_tokens_details: { reasoning_tokens: Math.min(tokenCount(outputDetails.reasoning_tokens), completionTokens) },
  };
}

function tokenCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
