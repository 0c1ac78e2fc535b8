/**
 * A final Responses response → a `chat.completion` object, for `stream: false` clients.
 *
 * The output items fold into one assistant message: text parts → `content` (null when there is
 * none, as the OpenAI API answers a tool-call-only turn), refusal parts → `refusal`, function
 * and custom tool calls → `tool_calls` with the upstream's call ids, reasoning summaries →
 * `reasoning_content` (the DeepSeek convention; docs/chat-completions.md), `url_citation`
 * annotations (web search) → `annotations`. Web search calls themselves and item types a Chat
 * Completions client cannot have asked for (image generation, MCP, …) give nothing.
 *
 * The pieces are exported because the streaming translator emits the same values for items it
 * only sees whole, so a streamed and a non-streamed answer always carry the same content.
 */
import { isRecord } from "../../streams/responses-event";
import { chatUsage } from "./convert-usage";
import { mapFinishReason } from "./map-finish-reason";

export function responseToChatCompletion(response: Record<string, unknown>, options: { model: string }): Record<string, unknown> {
  const output = Array.isArray(response.output) ? response.output.filter(isRecord) : [];
  let content = "";
  let refusal = "";
  const reasoning: string[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  for (const item of output) {
    switch (item.type) {
      case "reasoning": {
        const summary = reasoningSummaryText(item);
        if (summary) reasoning.push(summary);
        break;
      }
      case "message":
        for (const part of messageParts(item)) {
          if (part.type === "text") {
            annotations.push(...chatAnnotations(part.annotations, content.length));
            content += part.text;
          } else {
            refusal += part.text;
          }
        }
        break;
      case "function_call":
      case "custom_tool_call":
        toolCalls.push(toolCallOf(item));
        break;
    }
  }
  const message: Record<string, unknown> = { role: "assistant", content: content || null, refusal: refusal || null };
  if (reasoning.length > 0) message.reasoning_content = reasoning.join("\n\n");
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (annotations.length > 0) message.annotations = annotations;
  return {
    id: chatCompletionId(response.id),
    object: "chat.completion",
    created: createdAt(response.created_at),
    // The name the client asked for: clients match it against their own model list.
    model: options.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: mapFinishReason(response) }],
    usage: chatUsage(response.usage),
  };
}

/** `chatcmpl-` + the response id's own part, so a completion can be found in the upstream's logs. */
export function chatCompletionId(responseId: unknown): string {
  if (typeof responseId === "string" && responseId) return `chatcmpl-${responseId.replace(/^resp_/, "")}`;
  return `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;
}

export function createdAt(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.floor(value) : Math.floor(Date.now() / 1000);
}

/** Summary parts joined by a blank line, the way they read as one text (and as streamed). */
export function reasoningSummaryText(item: Record<string, unknown>): string {
  if (!Array.isArray(item.summary)) return "";
  return item.summary
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .filter(Boolean)
    .join("\n\n");
}

export interface MessagePart {
  type: "text" | "refusal";
  text: string;
  /** The part's position in the item's `content` (what `content_index` counts). */
  contentIndex: number;
  annotations?: unknown;
}

/** A message item's text and refusal parts, in order. */
export function messageParts(item: Record<string, unknown>): MessagePart[] {
  if (!Array.isArray(item.content)) return [];
  return item.content.flatMap((part, contentIndex): MessagePart[] => {
    if (!isRecord(part)) return [];
    if (part.type === "output_text") return [{ type: "text", text: typeof part.text === "string" ? part.text : "", contentIndex, annotations: part.annotations }];
    if (part.type === "refusal") return [{ type: "refusal", text: typeof part.refusal === "string" ? part.refusal : "", contentIndex }];
    return [];
  });
}

/** A function or custom tool call item → a Chat Completions tool call. */
export function toolCallOf(item: Record<string, unknown>): Record<string, unknown> {
  // The client answers with `tool_call_id`, which must become `function_call_output.call_id`:
  // so the id is the call id, not the item id.
  const id = typeof item.call_id === "string" ? item.call_id : typeof item.id === "string" ? item.id : "";
  const name = typeof item.name === "string" ? item.name : "";
  if (item.type === "custom_tool_call") return { id, type: "custom", custom: { name, input: typeof item.input === "string" ? item.input : "" } };
  return { id, type: "function", function: { name, arguments: typeof item.arguments === "string" ? item.arguments : "" } };
}

/**
 * Responses `url_citation` annotations (flat) → Chat Completions ones (nested under
 * `url_citation`), with indices moved by `offset`: the length of the content before this part,
 * since the message's parts become one `content` string.
 */
export function chatAnnotations(annotations: unknown, offset: number): Record<string, unknown>[] {
  if (!Array.isArray(annotations)) return [];
  return annotations.filter(isRecord).flatMap((annotation) => {
    if (annotation.type !== "url_citation" || typeof annotation.url !== "string") return [];
    const start = typeof annotation.start_index === "number" ? annotation.start_index : 0;
    const end = typeof annotation.end_index === "number" ? annotation.end_index : start;
    const title = typeof annotation.title === "string" ? annotation.title : "";
    return [{ type: "url_citation", url_citation: { start_index: start + offset, end_index: end + offset, title, url: annotation.url } }];
  });
}
