/**
 * The Anthropic Messages request as clients send it (Claude Code 2.1.x, the Anthropic SDKs).
 * Strict where a wrong value is the client's mistake (roles, block shapes); lenient about
 * fields we pass over on purpose (`cache_control`, `citations`).
 */
import * as z from "zod/mini";
import "../../shared/schema-messages";

const cacheControl = z.optional(z.looseObject({ type: z.string() }));

const base64Source = z.object({ type: z.literal("base64"), media_type: z.string(), data: z.string() });
const urlSource = z.object({ type: z.literal("url"), url: z.string() });
const textSource = z.object({ type: z.literal("text"), media_type: z.optional(z.string()), data: z.string() });
const fileSource = z.object({ type: z.literal("file"), file_id: z.string() });

export const textBlock = z.looseObject({ type: z.literal("text"), text: z.string(), cache_control: cacheControl });
export const imageBlock = z.looseObject({ type: z.literal("image"), source: z.union([base64Source, urlSource, fileSource]), cache_control: cacheControl });
export const documentBlock = z.looseObject({
  type: z.literal("document"),
  source: z.union([base64Source, urlSource, textSource, fileSource]),
  title: z.nullish(z.string()),
  cache_control: cacheControl,
});
export const toolUseBlock = z.looseObject({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown(), cache_control: cacheControl });
export const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.optional(z.union([z.string(), z.array(z.union([textBlock, imageBlock, documentBlock]))])),
  is_error: z.optional(z.boolean()),
  cache_control: cacheControl,
});
export const thinkingBlock = z.looseObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.optional(z.string()) });
export const redactedThinkingBlock = z.looseObject({ type: z.literal("redacted_thinking"), data: z.string() });
const knownBlockTypes = new Set(["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"]);
/**
 * Any other block type: accepted here, then named in a 400 by the translator, never dropped
 * silently. A known type that does not match its shape is the client's mistake: a 400 here.
 */
const otherBlock = z.looseObject({
  type: z
    .string()
    .check(z.refine((type) => !knownBlockTypes.has(type), "the block's fields do not match its type (a required field is missing or has the wrong type)")),
});

export const contentBlock = z.union([textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);
export type ContentBlock = z.infer<typeof contentBlock>;

export const message = z.object({
  role: z.enum(["user", "assistant", "system"], { error: "messages[].role must be 'user', 'assistant' or 'system'." }),
  content: z.union([z.string(), z.array(contentBlock)], { error: "messages[].content must be a string or an array of content blocks." }),
});

export const tool = z.looseObject({
  name: z.string(),
  type: z.optional(z.string()),
  description: z.optional(z.string()),
  input_schema: z.optional(z.record(z.string(), z.unknown())),
  cache_control: cacheControl,
});

export const messagesRequestSchema = z.looseObject({
  model: z.string({ error: "'model' is required and must be a string." }).check(z.minLength(1, "'model' must not be empty.")),
  messages: z.array(message, { error: "'messages' is required and must be an array." }),
  system: z.optional(z.union([z.string(), z.array(textBlock)])),
  max_tokens: z.optional(z.number({ error: "'max_tokens' must be a number." }).check(z.int(), z.positive())),
  temperature: z.optional(z.number()),
  top_p: z.optional(z.number()),
  top_k: z.optional(z.number()),
  stop_sequences: z.optional(z.array(z.string())),
  stream: z.optional(z.boolean()),
  tools: z.optional(z.array(tool)),
  tool_choice: z.optional(
    z.object({ type: z.enum(["auto", "any", "tool", "none"]), name: z.optional(z.string()), disable_parallel_tool_use: z.optional(z.boolean()) }),
  ),
  thinking: z.optional(z.looseObject({ type: z.enum(["enabled", "disabled", "adaptive"]), budget_tokens: z.optional(z.number()) })),
  output_config: z.optional(
    z.looseObject({
      effort: z.optional(z.string()),
      // Structured outputs (Claude Code's session titles ask for one).
      format: z.optional(z.looseObject({ type: z.string(), schema: z.optional(z.record(z.string(), z.unknown())) })),
    }),
  ),
  metadata: z.optional(z.looseObject({ user_id: z.nullish(z.string()) })),
  context_management: z.optional(z.looseObject({ edits: z.optional(z.array(z.looseObject({ type: z.string() }))) })),
  service_tier: z.optional(z.string()),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
