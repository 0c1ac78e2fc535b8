/**
 * The Chat Completions request as clients send it (the `openai` SDKs, opencode, qwen-code,
 * LangChain, aider; field list from openai-node `resources/chat/completions/completions.ts`).
 *
 * Strict where a wrong value is the client's mistake: roles, content part shapes, tool shapes,
 * the types of known fields (a 400 naming the path). Lenient where clients add things we pass
 * over on purpose: unknown fields on messages and parts (`name`, `reasoning_content`,
 * `cache_control` from Anthropic-minded clients) and unknown top-level fields (vendor extras such
 * as `top_k` or `chat_template_kwargs`), which the translator names in its notes.
 * Fields that have no Responses equivalent are typed here only loosely: the translator refuses
 * them by name, with a message that says what to do instead.
 */
import { z } from "zod";

const cacheBreakpoint = z.object({ mode: z.string() }).loose().optional();

export const textPart = z.object({ type: z.literal("text"), text: z.string(), prompt_cache_breakpoint: cacheBreakpoint }).loose();
export const imagePart = z
  .object({
    type: z.literal("image_url"),
    image_url: z.object({ url: z.string(), detail: z.enum(["auto", "low", "high"]).optional() }).loose(),
    prompt_cache_breakpoint: cacheBreakpoint,
  })
  .loose();
export const filePart = z
  .object({
    type: z.literal("file"),
    file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }).loose(),
    prompt_cache_breakpoint: cacheBreakpoint,
  })
  .loose();
export const audioPart = z.object({ type: z.literal("input_audio"), input_audio: z.object({ data: z.string(), format: z.string() }).loose() }).loose();
export const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() }).loose();

const knownPartTypes = new Set(["text", "image_url", "file", "input_audio", "refusal"]);
/**
 * Any other part type: accepted here and named in a 400 by the translator. A known type that
 * does not match its shape is the client's mistake: a 400 here.
 */
const otherPart = z
  .object({ type: z.string() })
  .loose()
  .refine((part) => !knownPartTypes.has(part.type), { message: "the part's fields do not match its type (a required field is missing or has the wrong type)" });

export const userContentPart = z.union([textPart, imagePart, filePart, audioPart, otherPart]);
export type UserContentPart = z.infer<typeof userContentPart>;
export const assistantContentPart = z.union([textPart, refusalPart, otherPart]);
export type AssistantContentPart = z.infer<typeof assistantContentPart>;

/** Text-only content (system, developer, tool messages): a string or parts, which the translator checks are text. */
const textContent = z.union([z.string(), z.array(z.object({ type: z.string() }).loose())], { error: "content must be a string or an array of text parts." });

export const functionToolCall = z
  .object({ id: z.string(), type: z.literal("function"), function: z.object({ name: z.string(), arguments: z.string() }).loose() })
  .loose();
export const customToolCall = z.object({ id: z.string(), type: z.literal("custom"), custom: z.object({ name: z.string(), input: z.string() }).loose() }).loose();
export const toolCall = z.union([functionToolCall, customToolCall]);

export const systemMessage = z.object({ role: z.enum(["system", "developer"]), content: textContent }).loose();
export const userMessage = z
  .object({ role: z.literal("user"), content: z.union([z.string(), z.array(userContentPart)], { error: "content must be a string or an array of content parts." }) })
  .loose();
export const assistantMessage = z
  .object({
    role: z.literal("assistant"),
    content: z.union([z.string(), z.array(assistantContentPart)]).nullish(),
    refusal: z.string().nullish(),
    tool_calls: z.array(toolCall).nullish(),
    function_call: z.unknown().optional(),
    audio: z.unknown().optional(),
  })
  .loose();
export const toolMessage = z.object({ role: z.literal("tool"), content: textContent, tool_call_id: z.string({ error: "tool messages need a tool_call_id." }) }).loose();
/** The legacy `functions` API's result message: accepted in the schema, refused by name. */
export const functionMessage = z.object({ role: z.literal("function"), content: z.string().nullish(), name: z.string() }).loose();

export const message = z.discriminatedUnion("role", [systemMessage, userMessage, assistantMessage, toolMessage, functionMessage], {
  error: "messages[].role must be one of 'system', 'developer', 'user', 'assistant', 'tool'.",
});
export type ChatMessage = z.infer<typeof message>;

export const functionTool = z
  .object({
    type: z.literal("function"),
    function: z
      .object({
        name: z.string().min(1),
        description: z.string().nullish(),
        parameters: z.record(z.string(), z.unknown()).nullish(),
        strict: z.boolean().nullish(),
      })
      .loose(),
  })
  .loose();
export const customTool = z
  .object({
    type: z.literal("custom"),
    custom: z.object({ name: z.string().min(1), description: z.string().nullish(), format: z.record(z.string(), z.unknown()).nullish() }).loose(),
  })
  .loose();
export const tool = z.discriminatedUnion("type", [functionTool, customTool], { error: "tools[] must be {type: 'function', function: {...}} or {type: 'custom', custom: {...}}." });
export type ChatTool = z.infer<typeof tool>;

export const toolChoice = z.union(
  [
    z.enum(["none", "auto", "required"]),
    z.object({ type: z.literal("function"), function: z.object({ name: z.string() }).loose() }).loose(),
    z.object({ type: z.literal("custom"), custom: z.object({ name: z.string() }).loose() }).loose(),
    z
      .object({
        type: z.literal("allowed_tools"),
        allowed_tools: z.object({ mode: z.enum(["auto", "required"]), tools: z.array(z.record(z.string(), z.unknown())) }).loose(),
      })
      .loose(),
  ],
  { error: "tool_choice must be 'none', 'auto', 'required', or a {type: 'function' | 'custom' | 'allowed_tools'} object." },
);
export type ChatToolChoice = z.infer<typeof toolChoice>;

export const responseFormat = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("text") }).loose(),
    z.object({ type: z.literal("json_object") }).loose(),
    z
      .object({
        type: z.literal("json_schema"),
        json_schema: z
          .object({ name: z.string().min(1), description: z.string().nullish(), schema: z.record(z.string(), z.unknown()).nullish(), strict: z.boolean().nullish() })
          .loose(),
      })
      .loose(),
  ],
  { error: "response_format.type must be 'text', 'json_object' or 'json_schema'." },
);

const count = (name: string) => z.number({ error: `'${name}' must be a number.` }).int(`'${name}' must be an integer.`).positive(`'${name}' must be at least 1.`).nullish();

/** Every field of the Chat Completions create body that the translator reads or refuses. */
export const chatCompletionsRequestSchema = z
  .object({
    model: z.string({ error: "'model' is required and must be a string." }).min(1, "'model' must not be empty."),
    messages: z.array(message, { error: "'messages' is required and must be an array." }).min(1, "'messages' must hold at least one message."),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() }).loose().nullish(),
    max_tokens: count("max_tokens"),
    max_completion_tokens: count("max_completion_tokens"),
    temperature: z.number().nullish(),
    top_p: z.number().nullish(),
    stop: z.union([z.string(), z.array(z.string())], { error: "'stop' must be a string or an array of strings." }).nullish(),
    tools: z.array(tool).nullish(),
    tool_choice: toolChoice.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    response_format: responseFormat.nullish(),
    reasoning_effort: z.string().nullish(),
    verbosity: z.enum(["low", "medium", "high"]).nullish(),
    user: z.string().nullish(),
    safety_identifier: z.string().nullish(),
    metadata: z.record(z.string(), z.string(), { error: "'metadata' must be an object of strings." }).nullish(),
    service_tier: z.string().nullish(),
    prompt_cache_key: z.string().nullish(),
    prompt_cache_retention: z.string().nullish(),
    prompt_cache_options: z.record(z.string(), z.unknown()).nullish(),
    store: z.boolean().nullish(),
    web_search_options: z
      .object({ search_context_size: z.enum(["low", "medium", "high"]).optional(), user_location: z.record(z.string(), z.unknown()).nullish() })
      .loose()
      .nullish(),
    // No Responses equivalent: refused by the translator unless the value asks for nothing.
    n: z.number().nullish(),
    seed: z.number().nullish(),
    frequency_penalty: z.number().nullish(),
    presence_penalty: z.number().nullish(),
    logit_bias: z.record(z.string(), z.unknown()).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().nullish(),
    modalities: z.array(z.string()).nullish(),
    audio: z.unknown().optional(),
    prediction: z.unknown().optional(),
    moderation: z.unknown().optional(),
    functions: z.unknown().optional(),
    function_call: z.unknown().optional(),
  })
  .loose();

export type ChatCompletionsRequest = z.infer<typeof chatCompletionsRequestSchema>;
