/**
 * A final Responses response → an Anthropic Message, for `stream: false` clients (and for the
 * non-streaming retry Claude Code makes after a broken stream, docs/protocol.md §5).
 *
 * Output items map to content blocks in order. The block builders are exported because the
 * streaming translator emits the same blocks for items it only sees whole (web search) or whose
 * deltas never came, so a streamed and a non-streamed answer always carry the same content.
 */
import { isRecord } from "../../streams/responses-event";
import { anthropicUsage } from "./convert-usage";
import { mapStopReason } from "./map-stop-reason";
import { encodeThinkingSignature } from "./thinking-signature";

export type AnthropicContentBlock = Record<string, unknown>;

export function responseToAnthropicMessage(response: Record<string, unknown>, options: { model: string }): Record<string, unknown> {
  const output = Array.isArray(response.output) ? response.output : [];
  return {
    id: anthropicMessageId(response.id),
    type: "message",
    role: "assistant",
    // The name the client asked for: clients match it against their own model list.
    model: options.model,
    content: output.flatMap(contentBlocksForItem),
    // `stop_sequence` is set by the gateway's own stop-sequence cut (streams/cut-output.ts).
    stop_reason: mapStopReason(response, typeof response.stop_sequence === "string" ? response.stop_sequence : undefined),
    stop_sequence: typeof response.stop_sequence === "string" ? response.stop_sequence : null,
    usage: anthropicUsage(response.usage),
  };
}

/** The response id when there is one; Anthropic clients only need it to be unique. */
export function anthropicMessageId(responseId: unknown): string {
  if (typeof responseId === "string" && responseId) return responseId;
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The content blocks one output item becomes; item types Anthropic has no block for give none. */
export function contentBlocksForItem(item: unknown): AnthropicContentBlock[] {
  if (!isRecord(item)) return [];
  switch (item.type) {
    case "reasoning":
      return thinkingBlocks(item);
    case "message":
      return Array.isArray(item.content) ? item.content.flatMap(textBlocksForPart) : [];
    case "function_call":
      return [toolUseBlock(item)];
    case "web_search_call":
      return webSearchBlocks(item);
    default:
      // custom_tool_call, image_generation_call, mcp_call, …: an Anthropic client never offered
      // such a tool, so there is nothing it could do with the block.
      return [];
  }
}

function thinkingBlocks(item: Record<string, unknown>): AnthropicContentBlock[] {
  const thinking = reasoningSummaryText(item);
  const signature = thinkingSignatureFor(item);
  // A reasoning item with neither summary nor encrypted content carries nothing a client could
  // show or send back (the upstream produces these when reasoning is neither summarised nor kept).
  if (!thinking && !signature) return [];
  return [{ type: "thinking", thinking, signature }];
}

/** Summary parts joined by a blank line, the way they read as one text (and as streamed). */
export function reasoningSummaryText(item: Record<string, unknown>): string {
  if (!Array.isArray(item.summary)) return "";
  return item.summary
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join("\n\n");
}

/**
 * The signature that lets the reasoning round-trip (see thinking-signature.ts), or "" when the
 * upstream sent no `encrypted_content` (the client then holds a summary it cannot replay).
 */
export function thinkingSignatureFor(item: Record<string, unknown>): string {
  if (typeof item.encrypted_content !== "string" || !item.encrypted_content) return "";
  const id = typeof item.id === "string" ? item.id : "";
  return encodeThinkingSignature({ id, encryptedContent: item.encrypted_content });
}

function textBlocksForPart(part: unknown): AnthropicContentBlock[] {
  if (!isRecord(part)) return [];
  if (part.type === "output_text") {
    const text = typeof part.text === "string" ? part.text : "";
    const annotations = Array.isArray(part.annotations) ? part.annotations : [];
    const citations = annotations.flatMap((annotation) => citationsFor(annotation, text));
    // `citations` only when there are some, as a streamed block only gets them from
    // `citations_delta` events.
    return [citations.length > 0 ? { type: "text", text, citations } : { type: "text", text }];
  }
  if (part.type === "refusal") {
    // Anthropic has no refusal block: the text is what the client shows, and the stop reason
    // (`refusal`) says what it was.
    return [{ type: "text", text: typeof part.refusal === "string" ? part.refusal : "" }];
  }
  return [];
}

/**
 * A `url_citation` annotation → an Anthropic `web_search_result_location` citation. The cited
 * text is the annotated span of the answer; `encrypted_index` is required by Anthropic's schema
 * but only Anthropic's own search can fill it, so it is empty.
 */
export function citationsFor(annotation: unknown, text: string): AnthropicContentBlock[] {
  if (!isRecord(annotation) || annotation.type !== "url_citation" || typeof annotation.url !== "string") return [];
  const start = typeof annotation.start_index === "number" ? annotation.start_index : 0;
  const end = typeof annotation.end_index === "number" ? annotation.end_index : start;
  return [
    {
      type: "web_search_result_location",
      url: annotation.url,
      title: typeof annotation.title === "string" ? annotation.title : null,
      cited_text: text.slice(start, end),
      encrypted_index: "",
    },
  ];
}

function toolUseBlock(item: Record<string, unknown>): AnthropicContentBlock {
  return {
    type: "tool_use",
    // The client answers with `tool_result.tool_use_id`, which must become the Responses
    // `function_call_output.call_id`: so the block's id is the call id, not the item id.
    id: typeof item.call_id === "string" ? item.call_id : typeof item.id === "string" ? item.id : "",
    name: typeof item.name === "string" ? item.name : "",
    input: toolInputFromArguments(item.arguments),
  };
}

/**
 * Function call arguments (a JSON text) → the `input` object Anthropic requires.
 * Empty arguments are a call without parameters: `{}`. Arguments that are not a JSON object
 * (malformed, or truncated by the token limit) are kept whole as `{"_raw_arguments": text}`
 * rather than dropped: the client's tool then rejects the input with a message that shows the
 * model what it sent, where `{}` would only report missing parameters.
 */
export function toolInputFromArguments(argumentsText: unknown): Record<string, unknown> {
  if (typeof argumentsText !== "string" || argumentsText.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    if (isRecord(parsed)) return parsed;
  } catch {
    // Falls through to the raw form below.
  }
  return { _raw_arguments: argumentsText };
}

/**
 * A `web_search_call` → a `server_tool_use` (what was searched) and its `web_search_tool_result`.
 * The result list is empty: Anthropic's results need an `encrypted_content` only Anthropic can
 * make; the sources reach the client as the citations of the answer's text. Actions without a
 * query (`open_page`, `find`) have no Anthropic counterpart and give no block.
 */
function webSearchBlocks(item: Record<string, unknown>): AnthropicContentBlock[] {
  const action = isRecord(item.action) ? item.action : {};
  const queries = Array.isArray(action.queries) ? action.queries : [];
  const query = typeof action.query === "string" ? action.query : queries.find((entry) => typeof entry === "string");
  if (typeof query !== "string") return [];
  const id = typeof item.id === "string" ? item.id : "";
  return [
    { type: "server_tool_use", id, name: "web_search", input: { query } },
    { type: "web_search_tool_result", tool_use_id: id, content: [] },
  ];
}
