/**
 * Chat Completions request → Responses request (pure). Everything is mapped to the nearest
 * Responses feature, done by the gateway itself (`stop`, a `max_tokens` under the upstream's
 * floor), or refused with a 400 naming the field; what is accepted but not carried (a message
 * `name`, a vendor extra, `seed`) is named in `notes` for the log. docs/chat-completions.md has
 * the whole table.
 *
 * Mappings worth knowing:
 * - The leading run of `system` / `developer` messages → `instructions`; a system or developer
 *   message later in the conversation → a `developer` item in place (as the Anthropic route
 *   does). `instructions` are not part of a response chain's history, so a client that edits its
 *   system prompt between turns (environment details, dates) still continues as a delta, and the
 *   history a session compares is the same items turn after turn.
 * - `tool_calls` / `tool` messages → `function_call` / `function_call_output` items with the
 *   client's call id, so ids are stable across turns; custom tool calls likewise.
 * - Responses function tools default to `strict: true`, Chat Completions ones to `false`: the
 *   client's value is always sent, `false` when it gave none.
 * - Chat Completions' `store` defaults to false, Responses' to true: the client's value is sent,
 *   `false` when it gave none.
 */
import { GatewayError } from "../../errors/gateway-error";
import { isRecord } from "../../streams/responses-event";
import {
  chatCompletionsRequestSchema,
  type AssistantContentPart,
  type ChatCompletionsRequest,
  type ChatMessage,
  type ChatTool,
  type ChatToolChoice,
  type UserContentPart,
} from "./chat-completions-api";

/** The Responses API refuses `max_output_tokens` below this (LiteLLM #35061; docs/protocol.md §8). */
export const minimumOutputTokens = 16;

export interface ConvertedChatRequest {
  /** The Responses `create` body (always streamed upstream). */
  request: Record<string, unknown>;
  /** The model name the client asked for, to report back in every chunk. */
  model: string;
  /** Stop sequences, done by the gateway (`streams/cut-output.ts`); empty when none. */
  stop: string[];
  /**
   * The client's output token limit, when it is below what the upstream accepts
   * (`minimumOutputTokens`): the upstream is asked for the floor and the gateway cuts the
   * output after this many deltas (`streams/cut-output.ts`). Undefined otherwise: the
   * upstream enforces `max_output_tokens` itself.
   */
  clientMaxTokens: number | undefined;
  /** `stream_options.include_usage`: a final chunk with `choices: []` and the usage. */
  includeUsage: boolean;
  /** Whether the client wants chunks (`stream: true`) or one `chat.completion`. */
  stream: boolean;
  /** Accepted but not carried, for the log line. */
  notes: string[];
}

type ResponsesItem = Record<string, unknown>;

const reasoningEfforts = new Set(["none", "minimal", "low", "medium", "high", "xhigh"]);
const knownFields = new Set(Object.keys(chatCompletionsRequestSchema.shape));

/** Parses and converts a client's body (any JSON value); a GatewayError("invalid_request") names what is wrong. */
export function convertChatRequest(body: unknown): ConvertedChatRequest {
  const parsed = chatCompletionsRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue ? pathText(issue.path) : "";
    throw invalid(`${param ? `${param}: ` : ""}${issue?.message ?? "invalid request"}`, param || null);
  }
  return convertParsedChatRequest(parsed.data);
}

export function convertParsedChatRequest(source: ChatCompletionsRequest): ConvertedChatRequest {
  refuseUnsupported(source);
  const notes: string[] = [];
  const { instructions, input } = convertMessages(source.messages, notes);
  const request: Record<string, unknown> = {
    model: source.model,
    input,
    stream: true,
    store: source.store ?? false,
  };
  if (instructions !== undefined) request.instructions = instructions;

  const limit = source.max_completion_tokens ?? source.max_tokens ?? undefined;
  if (source.max_completion_tokens != null && source.max_tokens != null && source.max_tokens !== source.max_completion_tokens) {
    notes.push("max_tokens was ignored: max_completion_tokens is set");
  }
  if (limit !== undefined) request.max_output_tokens = Math.max(minimumOutputTokens, limit);

  copyIfSet(source, request, ["temperature", "top_p", "parallel_tool_calls", "user", "safety_identifier", "metadata", "service_tier", "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options"]);

  const tools = (source.tools ?? []).map(convertTool);
  if (source.web_search_options) tools.push(webSearchTool(source.web_search_options));
  if (tools.length > 0) request.tools = tools;
  if (source.tool_choice != null) request.tool_choice = convertToolChoice(source.tool_choice);

  const text: Record<string, unknown> = {};
  if (source.response_format) text.format = convertResponseFormat(source.response_format);
  if (source.verbosity) text.verbosity = source.verbosity;
  if (Object.keys(text).length > 0) request.text = text;

  if (source.reasoning_effort != null) {
    const effort = source.reasoning_effort;
    if (!reasoningEfforts.has(effort)) {
      throw invalid(`reasoning_effort '${effort.slice(0, 40)}' is not one of ${[...reasoningEfforts].join(", ")}.`, "reasoning_effort");
    }
    if (effort === "none") {
      request.reasoning = { effort };
    } else {
      // Summaries are what a Chat Completions client can see of the reasoning (`reasoning_content`);
      // the encrypted content lets a session resend the reasoning after a lost connection.
      request.reasoning = { effort, summary: "auto" };
      request.include = ["reasoning.encrypted_content"];
    }
  }

  if (source.seed != null) notes.push("seed was not carried (Responses has no seed; determinism was never guaranteed)");
  const extras = Object.keys(source).filter((key) => !knownFields.has(key));
  if (extras.length > 0) notes.push(`ignored fields: ${extras.slice(0, 10).map((key) => key.slice(0, 40)).join(", ")}`);

  const stop = source.stop == null ? [] : (typeof source.stop === "string" ? [source.stop] : source.stop).filter((sequence) => sequence.length > 0);
  return {
    request,
    model: source.model,
    stop,
    clientMaxTokens: limit !== undefined && limit < minimumOutputTokens ? limit : undefined,
    includeUsage: source.stream_options?.include_usage === true,
    stream: source.stream === true,
    notes,
  };
}

/**
 * Fields with no Responses equivalent are refused unless their value asks for nothing: clients
 * such as older LangChain versions send `n: 1`, `frequency_penalty: 0`, `presence_penalty: 0`,
 * `logprobs: false` on every request, which the upstream's behaviour already matches.
 */
function refuseUnsupported(source: ChatCompletionsRequest): void {
  const refusals: [keyof ChatCompletionsRequest, (value: never) => boolean, string][] = [
    ["n", (value: number) => value === 1, "n > 1 (several choices) has no equivalent on the Responses upstream; send n: 1 or leave it out."],
    ["frequency_penalty", (value: number) => value === 0, "frequency_penalty has no equivalent on the Responses upstream; leave it out."],
    ["presence_penalty", (value: number) => value === 0, "presence_penalty has no equivalent on the Responses upstream; leave it out."],
    ["logit_bias", (value: Record<string, unknown>) => Object.keys(value).length === 0, "logit_bias has no equivalent on the Responses upstream; leave it out."],
    ["logprobs", (value: boolean) => value === false, "logprobs are not supported by this gateway; leave logprobs out."],
    ["top_logprobs", (value: number) => value === 0, "top_logprobs are not supported by this gateway; leave it out."],
    ["modalities", (value: string[]) => value.every((modality) => modality === "text"), "audio output is not supported by this gateway; send modalities: ['text'] or leave it out."],
    ["audio", () => false, "audio output is not supported by this gateway; leave audio out."],
    ["prediction", () => false, "prediction (predicted outputs) has no equivalent on the Responses upstream; leave it out."],
    ["moderation", () => false, "moderation has no equivalent on the Responses upstream; leave it out."],
    ["functions", () => false, "the legacy functions API is not supported; send tools with type 'function' instead."],
    ["function_call", () => false, "the legacy function_call parameter is not supported; send tool_choice instead."],
  ];
  for (const [field, asksForNothing, message] of refusals) {
    const value = source[field];
    if (value !== undefined && value !== null && !asksForNothing(value as never)) throw invalid(message, field);
  }
}

function convertMessages(messages: ChatMessage[], notes: string[]): { instructions: string | undefined; input: ResponsesItem[] } {
  const leading: string[] = [];
  let index = 0;
  for (; index < messages.length; index += 1) {
    const message = messages[index]!;
    if (message.role !== "system" && message.role !== "developer") break;
    leading.push(textOf(message.content, `messages[${index}].content`));
  }
  const input: ResponsesItem[] = [];
  const customCallIds = new Set<string>();
  const named: number[] = [];
  for (; index < messages.length; index += 1) {
    const message = messages[index]!;
    const where = `messages[${index}]`;
    if (typeof (message as Record<string, unknown>).name === "string") named.push(index);
    switch (message.role) {
      case "system":
      case "developer":
        input.push({ type: "message", role: "developer", content: [{ type: "input_text", text: textOf(message.content, `${where}.content`) }] });
        break;
      case "user": {
        const parts = typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content;
        input.push({ type: "message", role: "user", content: parts.map((part, partIndex) => userPart(part, `${where}.content[${partIndex}]`)) });
        break;
      }
      case "assistant":
        input.push(...assistantItems(message, where, customCallIds, notes));
        break;
      case "tool": {
        const output = textOf(message.content, `${where}.content`);
        const type = customCallIds.has(message.tool_call_id) ? "custom_tool_call_output" : "function_call_output";
        input.push({ type, call_id: message.tool_call_id, output });
        break;
      }
      case "function":
        throw invalid(`${where}: the legacy role 'function' is not supported; send tool messages with a tool_call_id instead.`, `${where}.role`);
    }
  }
  if (named.length > 0) notes.push(`message names were not carried (Responses has none): messages[${named.slice(0, 5).join("], messages[")}]`);
  return { instructions: leading.length > 0 ? leading.join("\n\n") : undefined, input };
}

function userPart(part: UserContentPart, where: string): Record<string, unknown> {
  const record = part as Record<string, unknown>;
  // Responses takes the same explicit cache breakpoints on input parts.
  const breakpoint = record.prompt_cache_breakpoint ? { prompt_cache_breakpoint: record.prompt_cache_breakpoint } : {};
  switch (part.type) {
    case "text":
      return { type: "input_text", text: String(record.text), ...breakpoint };
    case "image_url": {
      const image = record.image_url as { url: string; detail?: string };
      // Data URLs (`data:image/png;base64,…`) are accepted by Responses as they are.
      return { type: "input_image", image_url: image.url, detail: image.detail ?? "auto", ...breakpoint };
    }
    case "file": {
      const file = record.file as { file_data?: string; file_id?: string; filename?: string };
      if (file.file_id) return { type: "input_file", file_id: file.file_id, ...breakpoint };
      if (file.file_data) {
        return { type: "input_file", filename: file.filename ?? "file.pdf", file_data: fileData(file.file_data, file.filename), ...breakpoint };
      }
      throw invalid(`${where}: a file part needs file_data or file_id.`, `${where}.file`);
    }
    case "input_audio":
      throw invalid(`${where}: audio input is not supported by the Responses upstream; send text instead.`, where);
    default:
      throw invalid(`${where}: content part type '${part.type.slice(0, 60)}' is not supported in user messages.`, where);
  }
}

/**
 * Chat Completions clients send `file_data` as a data URL or as bare base64; Responses wants the
 * data URL. Bare base64 is read as a PDF (the one file type both APIs document) unless the file
 * name says otherwise, in which case it goes as it came, for the upstream to judge.
 */
function fileData(data: string, filename: string | undefined): string {
  if (data.startsWith("data:")) return data;
  return filename === undefined || filename.toLowerCase().endsWith(".pdf") ? `data:application/pdf;base64,${data}` : data;
}

function assistantItems(message: Extract<ChatMessage, { role: "assistant" }>, where: string, customCallIds: Set<string>, notes: string[]): ResponsesItem[] {
  if (message.function_call != null) {
    throw invalid(`${where}: the legacy function_call is not supported; send tool_calls instead.`, `${where}.function_call`);
  }
  if (message.audio != null) throw invalid(`${where}: assistant audio has no equivalent on the Responses upstream.`, `${where}.audio`);
  const record = message as Record<string, unknown>;
  if (typeof record.reasoning_content === "string" || typeof record.reasoning === "string") {
    // Plain reasoning text cannot be replayed (the upstream only takes its own encrypted
    // reasoning); a session keeps that reasoning on the provider's side instead.
    notes.push(`${where}: reasoning text was not replayed (only the upstream's own encrypted reasoning can be)`);
  }
  const content: Record<string, unknown>[] = [];
  const parts: AssistantContentPart[] = message.content == null ? [] : typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
  parts.forEach((part, partIndex) => {
    const text = part as Record<string, unknown>;
    if (part.type === "text") {
      if (text.text !== "") content.push({ type: "output_text", text: String(text.text), annotations: [] });
    } else if (part.type === "refusal") {
      content.push({ type: "refusal", refusal: String(text.refusal) });
    } else {
      throw invalid(`${where}.content[${partIndex}]: content part type '${part.type.slice(0, 60)}' is not supported in assistant messages.`, `${where}.content[${partIndex}]`);
    }
  });
  if (message.refusal) content.push({ type: "refusal", refusal: message.refusal });
  const items: ResponsesItem[] = content.length > 0 ? [{ type: "message", role: "assistant", content }] : [];
  for (const call of message.tool_calls ?? []) {
    if (call.type === "function") {
      items.push({ type: "function_call", call_id: call.id, name: call.function.name, arguments: call.function.arguments });
    } else {
      customCallIds.add(call.id);
      items.push({ type: "custom_tool_call", call_id: call.id, name: call.custom.name, input: call.custom.input });
    }
  }
  return items;
}

/** Text-only content as one string: text parts joined by newlines. */
function textOf(content: string | { type: string }[], where: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part, index) => {
      const text = (part as Record<string, unknown>).text;
      if (part.type !== "text" || typeof text !== "string") throw invalid(`${where}[${index}]: only text parts ({type: 'text', text}) are allowed here.`, `${where}[${index}]`);
      return text;
    })
    .join("\n");
}

function convertTool(tool: ChatTool): Record<string, unknown> {
  if (tool.type === "custom") {
    const { name, description, format } = tool.custom;
    return { type: "custom", name, ...(description ? { description } : {}), ...(format ? { format } : {}) };
  }
  const { name, description, parameters, strict } = tool.function;
  return {
    type: "function",
    name,
    ...(description ? { description } : {}),
    parameters: parameters ?? { type: "object", properties: {} },
    strict: strict ?? false,
  };
}

function webSearchTool(options: NonNullable<ChatCompletionsRequest["web_search_options"]>): Record<string, unknown> {
  const tool: Record<string, unknown> = { type: "web_search" };
  if (options.search_context_size) tool.search_context_size = options.search_context_size;
  const location = options.user_location;
  if (location) {
    // Chat Completions nests the fields under `approximate`; Responses has them flat.
    const approximate = typeof location.approximate === "object" && location.approximate !== null ? location.approximate : {};
    tool.user_location = { type: "approximate", ...approximate };
  }
  return tool;
}

function convertToolChoice(choice: ChatToolChoice): unknown {
  if (typeof choice === "string") return choice;
  switch (choice.type) {
    case "function":
      return { type: "function", name: choice.function.name };
    case "custom":
      return { type: "custom", name: choice.custom.name };
    case "allowed_tools":
      return { type: "allowed_tools", mode: choice.allowed_tools.mode, tools: choice.allowed_tools.tools.map((tool, index) => allowedTool(tool, index)) };
  }
}

function allowedTool(tool: Record<string, unknown>, index: number): Record<string, unknown> {
  // The type is checked before it is used: `String([{"toString":0}])` throws.
  const type = tool.type;
  if (type === "function" || type === "custom") {
    const nested = tool[type];
    if (isRecord(nested) && typeof nested.name === "string") return { type, name: nested.name };
  }
  throw invalid(`tool_choice.allowed_tools.tools[${index}] must be {type: 'function', function: {name}} or {type: 'custom', custom: {name}}.`, `tool_choice.allowed_tools.tools[${index}]`);
}

function convertResponseFormat(format: NonNullable<ChatCompletionsRequest["response_format"]>): Record<string, unknown> {
  if (format.type !== "json_schema") return { type: format.type };
  const { name, description, schema, strict } = format.json_schema;
  return {
    type: "json_schema",
    name,
    ...(description ? { description } : {}),
    schema: schema ?? { type: "object" },
    ...(typeof strict === "boolean" ? { strict } : {}),
  };
}

function copyIfSet(source: ChatCompletionsRequest, request: Record<string, unknown>, fields: (keyof ChatCompletionsRequest)[]): void {
  for (const field of fields) {
    const value = source[field];
    if (value !== undefined && value !== null) request[field] = value;
  }
}

/** A zod issue path as a client reads it: `messages[2].content[0].image_url`. */
function pathText(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : text ? `.${String(key)}` : String(key);
  return text;
}

function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError("invalid_request", message, { param });
}
