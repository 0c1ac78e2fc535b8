/**
 * The final Responses response → the Chat Completions `finish_reason`.
 *
 * Responses has no single finish reason: it is read from the output items and from `status` /
 * `incomplete_details.reason`, in the order Chat Completions agents act on: `tool_calls` makes
 * them run the tools and call again, `length` makes them ask to continue (or report a cut),
 * `content_filter` makes them stop. A refusal ends with `stop`, as on the OpenAI API: the
 * message's `refusal` field says what it was. A stop sequence (done by the gateway) is `stop`.
 */
import { isRecord } from "../../streams/responses-event";

export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export function mapFinishReason(response: unknown): ChatFinishReason {
  const fields = isRecord(response) ? response : {};
  const output = Array.isArray(fields.output) ? fields.output.filter(isRecord) : [];
  // A call cut off by the token limit (item status `incomplete`) has unusable arguments: the
  // client must see `length`, not be asked to run it.
  if (output.some((item) => (item.type === "function_call" || item.type === "custom_tool_call") && item.status !== "incomplete")) return "tool_calls";
  if (fields.status === "incomplete") {
    const details = isRecord(fields.incomplete_details) ? fields.incomplete_details : {};
    if (details.reason === "content_filter") return "content_filter";
    return "length";
  }
  return "stop";
}
