/**
 * The final Responses response → the Anthropic `stop_reason`.
 *
 * Responses has no single finish reason: it is read from the output items and from
 * `status` / `incomplete_details.reason`. The order below is what Anthropic clients act on:
 * `tool_use` makes an agent run the tools and call again, `max_tokens` makes it ask to continue,
 * `refusal` makes it stop and show the text.
 */
import { isRecord } from "../../streams/responses-event";

export type AnthropicStopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/**
 * @param stopSequence the stop sequence the caller matched in the text, if any (Responses has no
 *   `stop` parameter; the caller emulates it and so knows which one ended the text).
 */
export function mapStopReason(response: unknown, stopSequence?: string): AnthropicStopReason {
  if (stopSequence !== undefined) return "stop_sequence";
  const fields = isRecord(response) ? response : {};
  const output = Array.isArray(fields.output) ? fields.output.filter(isRecord) : [];
  // A call cut off by the token limit (item status `incomplete`) has unusable arguments: the
  // client must see `max_tokens`, not be asked to run it.
  if (output.some((item) => item.type === "function_call" && item.status !== "incomplete")) return "tool_use";
  if (fields.status === "incomplete") {
    const details = isRecord(fields.incomplete_details) ? fields.incomplete_details : {};
    if (details.reason === "max_output_tokens") return "max_tokens";
    if (details.reason === "content_filter") return "refusal";
  }
  if (output.some(hasRefusalPart)) return "refusal";
  return "end_turn";
}

function hasRefusalPart(item: Record<string, unknown>): boolean {
  if (item.type !== "message" || !Array.isArray(item.content)) return false;
  return item.content.some((part) => isRecord(part) && part.type === "refusal");
}
