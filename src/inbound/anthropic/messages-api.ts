/**
 * The Anthropic Messages request as clients send it (Claude Code 2.1.x, the Anthropic SDKs).
 * Strict where a wrong value is the client's mistake (roles, block shapes); lenient about
 * fields we pass over on purpose (`cache_control`, `citations`).
 */
import { z } from "zod";

const cacheControl = z.object({ type: z.string() }).loose().optional();

const base64Source = z.object({ type: z.literal("base64"), media_type: z.string(), data: z.string() });
const urlSource = z.object({ type: z.literal("url"), url: z.string() });
const textSource = z.object({ type: z.literal("text"), media_type: z.string().optional(), data: z.string() });
const fileSource = z.object({ type: z.literal("file"), file_id: z.string() });

export const textBlock = z.object({ type: z.literal("text"), text: z.string(), cache_control: cacheControl }).loose();
export const imageBlock = z.object({ type: z.literal("image"), source: z.union([base64Source, urlSource, fileSource]), cache_control: cacheControl }).loose();
export const documentBlock = z
  .object({ type: z.literal("document"), source: z.union([base64Source, urlSource, textSource, fileSource]), title: z.string().nullish(), cache_control: cacheControl })
  .loose();
export const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown(), cache_control: cacheControl }).loose();
export const toolResultBlock = z
  .object({
    type: z.literal("tool_result"),
    tool_use_id: z.string(),
    content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, documentBlock]))]).optional(),
    is_error: z.boolean().optional(),
    cache_control: cacheControl,
  })
  .loose();
export const thinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().optional() }).loose();
export const redactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string() }).loose();
const knownBlockTypes = new Set(["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"]);
/**
 * Any other block type: accepted here, then named in a 400 by the translator, never dropped
 * silently. A known type that does not match its shape is the client's mistake: a 400 here.
 */
const otherBlock = z
  .object({ type: z.string().refine((type) => !knownBlockTypes.has(type), { message: "the block's fields do not match its type (a required field is missing or has the wrong type)" }) })
  .loose();

export const contentBlock = z.union([textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);
export type ContentBlock = z.infer<typeof contentBlock>;

export const message = z.object({
  role: z.enum(["user", "assistant", "system"], { error: "messages[].role must be 'user', 'assistant' or 'system'." }),
  content: z.union([z.string(), z.array(contentBlock)], { error: "messages[].content must be a string or an array of content blocks." }),
});

export const tool = z
  .object({
    name: z.string(),
    type: z.string().optional(),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
    cache_control: cacheControl,
  })
  .loose();

export const messagesRequestSchema = z
  .object({
    model: z.string({ error: "'model' is required and must be a string." }).min(1, "'model' must not be empty."),
    messages: z.array(message, { error: "'messages' is required and must be an array." }),
    system: z.union([z.string(), z.array(textBlock)]).optional(),
    max_tokens: z.number({ error: "'max_tokens' must be a number." }).int().positive().optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    top_k: z.number().optional(),
    stop_sequences: z.array(z.string()).optional(),
    stream: z.boolean().optional(),
    tools: z.array(tool).optional(),
    tool_choice: z
      .object({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() })
      .optional(),
    thinking: z
      .object({ type: z.enum(["enabled", "disabled", "adaptive"]), budget_tokens: z.number().optional() })
      .loose()
      .optional(),
    output_config: z
      .object({
        effort: z.string().optional(),
        // Structured outputs (Claude Code's session titles ask for one).
        format: z.object({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional() }).loose().optional(),
      })
      .loose()
      .optional(),
    metadata: z.object({ user_id: z.string().nullish() }).loose().optional(),
    context_management: z.object({ edits: z.array(z.object({ type: z.string() }).loose()).optional() }).loose().optional(),
    service_tier: z.string().optional(),
  })
  .loose();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
