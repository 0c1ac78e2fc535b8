/**
 * Anthropic Messages request → Responses request (pure). Everything is either mapped to the
 * nearest Responses feature or refused with a 400 naming it; nothing is dropped silently.
 *
 * Mappings worth knowing:
 * - `system` → `instructions`; a mid-conversation `role: "system"` message → a `developer` item
 *   in place (Claude Code's `mid-conversation-system` beta).
 * - `tool_use` / `tool_result` → `function_call` / `function_call_output`, the Anthropic tool use
 *   id kept as the call id, so ids are stable across turns.
 * - `thinking` blocks whose signature is ours carry the upstream's encrypted reasoning: they
 *   become reasoning items again; foreign signatures (another provider's) cannot be replayed.
 * - `thinking` / `output_config.effort` → `reasoning.effort` (see `reasoningEffort`);
 *   `output_config.format` (a JSON schema) → `text.format`.
 * - `stop_sequences` has no Responses equivalent: the gateway cuts the output itself
 *   (`streams/cut-output.ts`), so nothing is sent upstream for it.
 */
import { mapModel } from "../../configuration/configuration";
import { GatewayError } from "../../errors/gateway-error";
import { fingerprint } from "../../shared/fingerprint";
import type { ContentBlock, MessagesRequest } from "./messages-api";
import { decodeThinkingSignature } from "./thinking-signature";

export interface ConvertedRequest {
  /** The Responses `create` body (always streamed upstream). */
  request: Record<string, unknown>;
  /** The session named by the client, if any (`metadata.user_id` → `session_id`). */
  sessionId: string | undefined;
  /** Things accepted but not carried (e.g. a foreign thinking signature), for the log. */
  notes: string[];
  /** The client's `max_tokens` when under the upstream's floor: the gateway cuts the text there. */
  maxTextDeltas: number | undefined;
}

/** The Responses API refuses `max_output_tokens` under 16 (LiteLLM #35061). */
export const minimumOutputTokens = 16;

type ResponsesItem = Record<string, unknown>;

export function convertMessagesRequest(
  source: MessagesRequest,
  options: { modelMap: [string, string][]; sessionId?: string | undefined },
): ConvertedRequest {
  refuseUnsupported(source);
  const notes: string[] = [];
  const sessionId = options.sessionId ?? sessionFromMetadata(source.metadata?.user_id);
  const input: ResponsesItem[] = [];
  source.messages.forEach((message, index) => {
    const blocks: ContentBlock[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    if (message.role === "system") input.push(messageItem("developer", blocks.map((block) => textOf(block, `messages[${index}]`))));
    else if (message.role === "user") input.push(...userItems(blocks, index));
    else input.push(...assistantItems(blocks, index, notes));
  });

  const request: Record<string, unknown> = {
    model: mapModel(options.modelMap, source.model),
    input,
    stream: true,
    // Encrypted reasoning is how thinking round-trips; it needs store: false.
    store: false,
  };
  const instructions = systemText(source.system);
  if (instructions) request.instructions = instructions;
  // Claude Code probes with `max_tokens: 1`: the upstream is asked for its floor, the text cut to the client's limit.
  if (source.max_tokens !== undefined) request.max_output_tokens = Math.max(minimumOutputTokens, source.max_tokens);
  if (source.temperature !== undefined) request.temperature = source.temperature;
  if (source.top_p !== undefined) request.top_p = source.top_p;
  if (source.tools?.length) request.tools = source.tools.map(convertTool);
  const toolChoice = convertToolChoice(source.tool_choice);
  if (toolChoice !== undefined) request.tool_choice = toolChoice;
  if (source.tool_choice?.disable_parallel_tool_use) request.parallel_tool_calls = false;
  const format = outputFormat(source.output_config?.format);
  if (format) request.text = { format };
  const effort = reasoningEffort(source);
  if (effort) {
    request.reasoning = { effort, summary: "auto" };
    request.include = ["reasoning.encrypted_content"];
  }
  // Prompt caching: one stable key per conversation keeps the upstream's cache warm.
  const cacheKey = sessionId ?? (hasCacheHints(source) ? `anthropic-${fingerprint(`${request.model}\n${instructions ?? ""}\n${JSON.stringify(request.tools ?? [])}`)}` : undefined);
  if (cacheKey) request.prompt_cache_key = cacheKey;
  const maxTextDeltas = source.max_tokens !== undefined && source.max_tokens < minimumOutputTokens ? source.max_tokens : undefined;
  return { request, sessionId, notes, maxTextDeltas };
}

/** A Map, not an object literal: a client's `constructor` or `__proto__` must not find `Object.prototype`'s. */
const effortByName: ReadonlyMap<string, string> = new Map([
  ["low", "low"],
  ["medium", "medium"],
  ["high", "high"],
  ["max", "xhigh"],
  ["xhigh", "xhigh"],
  ["minimal", "minimal"],
]);

/**
 * Effort: `output_config.effort` when given (low/medium/high, max → xhigh); else from the
 * thinking budget (< 4k tokens → low, < 16k → medium, more → high); adaptive thinking without
 * an effort → medium; thinking disabled or absent → no reasoning settings (the model's default).
 */
export function reasoningEffort(source: MessagesRequest): string | undefined {
  const requested = source.output_config?.effort;
  if (requested) {
    const mapped = effortByName.get(requested);
    if (!mapped) throw invalid(`output_config.effort '${requested.slice(0, 40)}' is not one of low, medium, high, max.`, "output_config.effort");
    return mapped;
  }
  const thinking = source.thinking;
  if (!thinking || thinking.type === "disabled") return undefined;
  if (thinking.type === "adaptive") return "medium";
  const budget = thinking.budget_tokens ?? 8192;
  return budget < 4096 ? "low" : budget < 16384 ? "medium" : "high";
}

/**
 * `output_config.format` (structured outputs): a JSON schema the answer must follow → the
 * Responses `text.format`. Anthropic's structured outputs are strict by nature (every property
 * required, no others), as Responses' `strict: true` is.
 */
function outputFormat(format: NonNullable<MessagesRequest["output_config"]>["format"]): Record<string, unknown> | undefined {
  if (!format) return undefined;
  if (format.type !== "json_schema" || !format.schema) {
    throw invalid(`output_config.format of type '${format.type.slice(0, 40)}' is not supported; send a json_schema with its schema.`, "output_config.format");
  }
  return { type: "json_schema", name: "output", schema: format.schema, strict: true };
}

function refuseUnsupported(source: MessagesRequest): void {
  if (source.top_k !== undefined) throw invalid("top_k has no equivalent on the Responses upstream; remove it.", "top_k");
  for (const key of ["mcp_servers", "container"]) {
    if ((source as Record<string, unknown>)[key] !== undefined) throw invalid(`${key} is not supported by this gateway.`, key);
  }
  // Claude Code sends `clear_thinking` edits with keep: "all" — a no-op here, where the upstream
  // manages reasoning itself. Other edits would change what the model sees: refused.
  for (const edit of source.context_management?.edits ?? []) {
    if (!edit.type.startsWith("clear_thinking")) {
      throw invalid(`context_management edit '${edit.type.slice(0, 60)}' is not supported by this gateway.`, "context_management");
    }
  }
}

function userItems(blocks: ContentBlock[], index: number): ResponsesItem[] {
  const items: ResponsesItem[] = [];
  let parts: Record<string, unknown>[] = [];
  const flush = () => {
    if (parts.length > 0) items.push(messageItem("user", parts));
    parts = [];
  };
  blocks.forEach((block, blockIndex) => {
    const where = `messages[${index}].content[${blockIndex}]`;
    if (block.type === "tool_result") {
      // A tool result is its own item; text around it stays in order around it.
      flush();
      items.push(toolResultItem(block as ToolResult, where));
    } else {
      parts.push(inputPart(block, where));
    }
  });
  flush();
  return items;
}

function assistantItems(blocks: ContentBlock[], index: number, notes: string[]): ResponsesItem[] {
  const items: ResponsesItem[] = [];
  let texts: Record<string, unknown>[] = [];
  const flush = () => {
    if (texts.length > 0) items.push({ type: "message", role: "assistant", content: texts });
    texts = [];
  };
  blocks.forEach((block, blockIndex) => {
    const where = `messages[${index}].content[${blockIndex}]`;
    const record = block as Record<string, unknown>;
    switch (block.type) {
      case "text":
        texts.push({ type: "output_text", text: String(record.text), annotations: [] });
        break;
      case "tool_use":
        flush();
        items.push({ type: "function_call", call_id: String(record.id), name: String(record.name), arguments: JSON.stringify(record.input ?? {}) });
        break;
      case "thinking":
      case "redacted_thinking": {
        flush();
        const signature = block.type === "thinking" ? record.signature : record.data;
        const decoded = typeof signature === "string" ? decodeThinkingSignature(signature) : undefined;
        if (!decoded) {
          notes.push(`${where}: ${block.type} without a Turnpike signature was not replayed (another provider's reasoning)`);
          break;
        }
        const text = block.type === "thinking" ? String(record.thinking) : "";
        items.push({
          type: "reasoning",
          id: decoded.id,
          encrypted_content: decoded.encryptedContent,
          summary: text ? [{ type: "summary_text", text }] : [],
        });
        break;
      }
      case "server_tool_use":
        // A web search the gateway reported (convert-responses-response.ts), sent back by the
        // client: the upstream's own search item again, so the conversation continues.
        // The schema checks only the type of a block it does not know: its fields are checked here
        // (and never turned into text blindly: `String([{"toString":0}])` throws).
        if (record.name !== "web_search") {
          const name = typeof record.name === "string" ? `'${record.name.slice(0, 60)}'` : "without a string name";
          throw invalid(`${where}: server tool ${name} has no equivalent on the Responses upstream.`, where);
        }
        if (typeof record.id !== "string") throw invalid(`${where}: a server_tool_use block needs a string id.`, `${where}.id`);
        flush();
        items.push({ type: "web_search_call", id: record.id, status: "completed", action: { type: "search", query: searchQuery(record.input) } });
        break;
      case "web_search_tool_result":
        // Its results reached the client as the answer's citations; the upstream needs nothing
        // of it (its search item above stands for the whole search).
        break;
      default:
        throw invalid(`${where}: content block type '${block.type.slice(0, 60)}' is not supported in assistant messages.`, where);
    }
  });
  flush();
  return items;
}

function searchQuery(input: unknown): string {
  const query = typeof input === "object" && input !== null ? (input as Record<string, unknown>).query : undefined;
  return typeof query === "string" ? query : "";
}

type ToolResult = { tool_use_id: string; content?: string | ContentBlock[]; is_error?: boolean };

function toolResultItem(block: ToolResult, where: string): ResponsesItem {
  const prefix = block.is_error ? "[tool error] " : "";
  const content = block.content ?? "";
  if (typeof content === "string") return { type: "function_call_output", call_id: block.tool_use_id, output: prefix + content };
  const parts = content.map((part, index) => inputPart(part, `${where}.content[${index}]`));
  if (prefix) parts.unshift({ type: "input_text", text: prefix.trim() });
  // Text-only results stay a string, which every Responses model accepts.
  const output = parts.every((part) => part.type === "input_text") ? parts.map((part) => part.text).join("\n") : parts;
  return { type: "function_call_output", call_id: block.tool_use_id, output };
}

function inputPart(block: ContentBlock, where: string): Record<string, unknown> {
  const record = block as Record<string, unknown>;
  const source = record.source as Record<string, unknown> | undefined;
  switch (block.type) {
    case "text":
      return { type: "input_text", text: String(record.text) };
    case "image":
      if (source?.type === "base64") return { type: "input_image", image_url: `data:${String(source.media_type)};base64,${String(source.data)}`, detail: "auto" };
      if (source?.type === "url") return { type: "input_image", image_url: String(source.url), detail: "auto" };
      throw invalid(`${where}: image source '${String(source?.type)}' is not supported; send base64 or url.`, where);
    case "document":
      if (source?.type === "base64") {
        return { type: "input_file", filename: String(record.title ?? "document.pdf"), file_data: `data:${String(source.media_type)};base64,${String(source.data)}` };
      }
      if (source?.type === "url") return { type: "input_file", file_url: String(source.url) };
      if (source?.type === "text") return { type: "input_text", text: String(source.data) };
      throw invalid(`${where}: document source '${String(source?.type)}' is not supported; send base64, url or text.`, where);
    default:
      throw invalid(`${where}: content block type '${block.type.slice(0, 60)}' is not supported in user messages.`, where);
  }
}

function textOf(block: ContentBlock, where: string): Record<string, unknown> {
  if (block.type !== "text") throw invalid(`${where}: system messages may hold text only.`, where);
  return { type: "input_text", text: String((block as Record<string, unknown>).text) };
}

function messageItem(role: "user" | "developer", content: Record<string, unknown>[]): ResponsesItem {
  return { type: "message", role, content };
}

function systemText(system: MessagesRequest["system"]): string | undefined {
  if (system === undefined) return undefined;
  if (typeof system === "string") return system || undefined;
  return system.map((block) => block.text).join("\n\n") || undefined;
}

function convertTool(tool: NonNullable<MessagesRequest["tools"]>[number]): Record<string, unknown> {
  if (tool.type?.startsWith("web_search")) {
    const allowed = (tool as Record<string, unknown>).allowed_domains;
    return { type: "web_search", ...(Array.isArray(allowed) ? { filters: { allowed_domains: allowed } } : {}) };
  }
  if (tool.type && tool.type !== "custom") {
    throw invalid(`tool '${tool.name.slice(0, 60)}' of type '${tool.type.slice(0, 60)}' has no equivalent on the Responses upstream.`, "tools");
  }
  return { type: "function", name: tool.name, description: tool.description ?? "", parameters: tool.input_schema ?? { type: "object", properties: {} }, strict: false };
}

function convertToolChoice(choice: MessagesRequest["tool_choice"]): unknown {
  switch (choice?.type) {
    case undefined:
      return undefined;
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      if (!choice.name) throw invalid("tool_choice of type 'tool' needs a name.", "tool_choice.name");
      return { type: "function", name: choice.name };
  }
}

function hasCacheHints(source: MessagesRequest): boolean {
  const blocks = [
    ...(Array.isArray(source.system) ? source.system : []),
    ...source.messages.flatMap((message) => (Array.isArray(message.content) ? message.content : [])),
    ...(source.tools ?? []),
  ];
  return blocks.some((block) => (block as Record<string, unknown>).cache_control !== undefined);
}

/** Claude Code puts a JSON-encoded object in `metadata.user_id`, holding `session_id`. */
export function sessionFromMetadata(userId: string | null | undefined): string | undefined {
  if (!userId || !userId.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(userId) as { session_id?: unknown };
    return typeof parsed.session_id === "string" && parsed.session_id ? parsed.session_id : undefined;
  } catch {
    return undefined;
  }
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError("invalid_request", message, { param });
}
