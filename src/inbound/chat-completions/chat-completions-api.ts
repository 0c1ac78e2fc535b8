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
import * as z from "zod/mini";
import "../../shared/schema-messages";

const cacheBreakpoint = z.optional(z.looseObject({ mode: z.string() }));

export const textPart = z.looseObject({ type: z.literal("text"), text: z.string(), prompt_cache_breakpoint: cacheBreakpoint });
export const imagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string(), detail: z.optional(z.enum(["auto", "low", "high"])) }),
  prompt_cache_breakpoint: cacheBreakpoint,
});
export const filePart = z.looseObject({
  type: z.literal("file"),
  file: z.looseObject({ file_data: z.optional(z.string()), file_id: z.optional(z.string()), filename: z.optional(z.string()) }),
  prompt_cache_breakpoint: cacheBreakpoint,
});
export const audioPart = z.looseObject({ type: z.literal("input_audio"), input_audio: z.looseObject({ data: z.string(), format: z.string() }) });
export const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

const knownPartTypes = new Set(["text", "image_url", "file", "input_audio", "refusal"]);
/**
 * Any other part type: accepted here and named in a 400 by the translator. A known type that
 * does not match its shape is the client's mistake: a 400 here.
 */
const otherPart = z
  .looseObject({ type: z.string() })
  .check(z.refine((part) => !knownPartTypes.has(part.type), "the part's fields do not match its type (a required field is missing or has the wrong type)"));

export const userContentPart = z.union([textPart, imagePart, filePart, audioPart, otherPart]);
export type UserContentPart = z.infer<typeof userContentPart>;
export const assistantContentPart = z.union([textPart, refusalPart, otherPart]);
export type AssistantContentPart = z.infer<typeof assistantContentPart>;

/** Text-only content (system, developer, tool messages): a string or parts, which the translator checks are text. */
const textContent = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))], { error: "content must be a string or an array of text parts." });

export const functionToolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});
export const customToolCall = z.looseObject({ id: z.string(), type: z.literal("custom"), custom: z.looseObject({ name: z.string(), input: z.string() }) });
export const toolCall = z.union([functionToolCall, customToolCall]);

export const systemMessage = z.looseObject({ role: z.enum(["system", "developer"]), content: textContent });
export const userMessage = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(userContentPart)], { error: "content must be a string or an array of content parts." }),
});
export const assistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: z.nullish(z.union([z.string(), z.array(assistantContentPart)])),
  refusal: z.nullish(z.string()),
  tool_calls: z.nullish(z.array(toolCall)),
  function_call: z.optional(z.unknown()),
  audio: z.optional(z.unknown()),
});
export const toolMessage = z.looseObject({ role: z.literal("tool"), content: textContent, tool_call_id: z.string({ error: "tool messages need a tool_call_id." }) });
/** The legacy `functions` API's result message: accepted in the schema, refused by name. */
export const functionMessage = z.looseObject({ role: z.literal("function"), content: z.nullish(z.string()), name: z.string() });

export const message = z.discriminatedUnion("role", [systemMessage, userMessage, assistantMessage, toolMessage, functionMessage], {
  error: "messages[].role must be one of 'system', 'developer', 'user', 'assistant', 'tool'.",
});
export type ChatMessage = z.infer<typeof message>;

const name = z.string().check(z.minLength(1));
const jsonObject = z.record(z.string(), z.unknown());

export const functionTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name,
    description: z.nullish(z.string()),
    parameters: z.nullish(jsonObject),
    strict: z.nullish(z.boolean()),
  }),
});
export const customTool = z.looseObject({
  type: z.literal("custom"),
  custom: z.looseObject({ name, description: z.nullish(z.string()), format: z.nullish(jsonObject) }),
});
export const tool = z.discriminatedUnion("type", [functionTool, customTool], { error: "tools[] must be {type: 'function', function: {...}} or {type: 'custom', custom: {...}}." });
export type ChatTool = z.infer<typeof tool>;

export const toolChoice = z.union(
  [
    z.enum(["none", "auto", "required"]),
    z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
    z.looseObject({ type: z.literal("custom"), custom: z.looseObject({ name: z.string() }) }),
    z.looseObject({
      type: z.literal("allowed_tools"),
      allowed_tools: z.looseObject({ mode: z.enum(["auto", "required"]), tools: z.array(jsonObject) }),
    }),
  ],
  { error: "tool_choice must be 'none', 'auto', 'required', or a {type: 'function' | 'custom' | 'allowed_tools'} object." },
);
export type ChatToolChoice = z.infer<typeof toolChoice>;

export const responseFormat = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("text") }),
    z.looseObject({ type: z.literal("json_object") }),
    z.looseObject({
      type: z.literal("json_schema"),
      json_schema: z.looseObject({ name, description: z.nullish(z.string()), schema: z.nullish(jsonObject), strict: z.nullish(z.boolean()) }),
    }),
  ],
  { error: "response_format.type must be 'text', 'json_object' or 'json_schema'." },
);

const count = (name: string) =>
  z.nullish(z.number({ error: `'${name}' must be a number.` }).check(z.int(`'${name}' must be an integer.`), z.positive(`'${name}' must be at least 1.`)));

/** Every field of the Chat Completions create body that the translator reads or refuses. */
export const chatCompletionsRequestSchema = z.looseObject({
  model: z.string({ error: "'model' is required and must be a string." }).check(z.minLength(1, "'model' must not be empty.")),
  messages: z.array(message, { error: "'messages' is required and must be an array." }).check(z.minLength(1, "'messages' must hold at least one message.")),
  stream: z.nullish(z.boolean()),
  stream_options: z.nullish(z.looseObject({ include_usage: z.nullish(z.boolean()), include_obfuscation: z.nullish(z.boolean()) })),
  max_tokens: count("max_tokens"),
  max_completion_tokens: count("max_completion_tokens"),
  temperature: z.nullish(z.number()),
  top_p: z.nullish(z.number()),
  stop: z.nullish(z.union([z.string(), z.array(z.string())], { error: "'stop' must be a string or an array of strings." })),
  tools: z.nullish(z.array(tool)),
  tool_choice: z.nullish(toolChoice),
  parallel_tool_calls: z.nullish(z.boolean()),
  response_format: z.nullish(responseFormat),
  reasoning_effort: z.nullish(z.string()),
  verbosity: z.nullish(z.enum(["low", "medium", "high"])),
  user: z.nullish(z.string()),
  safety_identifier: z.nullish(z.string()),
  metadata: z.nullish(z.record(z.string(), z.string(), { error: "'metadata' must be an object of strings." })),
  service_tier: z.nullish(z.string()),
  prompt_cache_key: z.nullish(z.string()),
  prompt_cache_retention: z.nullish(z.string()),
  prompt_cache_options: z.nullish(jsonObject),
  store: z.nullish(z.boolean()),
  web_search_options: z.nullish(
    z.looseObject({ search_context_size: z.optional(z.enum(["low", "medium", "high"])), user_location: z.nullish(jsonObject) }),
  ),
  // No Responses equivalent: refused by the translator unless the value asks for nothing.
  n: z.nullish(z.number()),
  seed: z.nullish(z.number()),
  frequency_penalty: z.nullish(z.number()),
  presence_penalty: z.nullish(z.number()),
  logit_bias: z.nullish(jsonObject),
  logprobs: z.nullish(z.boolean()),
  top_logprobs: z.nullish(z.number()),
  modalities: z.nullish(z.array(z.string())),
  audio: z.optional(z.unknown()),
  prediction: z.optional(z.unknown()),
  moderation: z.optional(z.unknown()),
  functions: z.optional(z.unknown()),
  function_call: z.optional(z.unknown()),
});

export type ChatCompletionsRequest = z.infer<typeof chatCompletionsRequestSchema>;
