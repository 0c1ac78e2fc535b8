/**
 * Anthropic Messages requests for property tests, built from the wire schema
 * (src/inbound/anthropic/messages-api.ts): every request generated here passes the schema, and
 * so reaches the translator. Values are mostly ordinary, with the odd one a client may send —
 * blocks of types the gateway refuses, foreign and forged thinking signatures, server tools,
 * efforts and edits it does not know, keys named like `Object.prototype`'s members.
 */
import fc from "fast-check";
import { encodeThinkingSignature } from "../../../src/inbound/anthropic/thinking-signature";

export const prototypeKeys = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty"] as const;

/**
 * JSON values that break code which turns them into text: an object whose `toString` is not a
 * function (`String([{"toString":0}])` throws), and other values where a string is expected.
 */
export const hostileValueTexts = ['[{"toString":0}]', '{"toString":0}', '{"toString":{},"valueOf":{}}', '{"a":1}', "[]", "5", "true", "null"] as const;
export const hostileValue = fc.constantFrom(...hostileValueTexts).map((text) => JSON.parse(text) as unknown);

const text = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) });
const name = fc.oneof(fc.constantFrom("Bash", "Read", "web_search", "get_weather"), fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom(...prototypeKeys));
const id = fc.oneof(fc.constantFrom("toolu_1", "toolu_2", "call_1"), fc.string({ maxLength: 8 }));
const cacheControl = fc.option(fc.record({ type: fc.constant("ephemeral") }), { nil: undefined });
/** JSON objects with keys a client might pick badly. */
const jsonObject = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...prototypeKeys)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

const base64Source = fc.record({ type: fc.constant("base64"), media_type: fc.constantFrom("image/png", "application/pdf", ""), data: text });
const urlSource = fc.record({ type: fc.constant("url"), url: fc.oneof(fc.webUrl(), text) });
const fileSource = fc.record({ type: fc.constant("file"), file_id: text });
const textSource = fc.record({ type: fc.constant("text"), media_type: fc.constant("text/plain"), data: text }, { requiredKeys: ["type", "data"] });

const textBlock = fc.record({ type: fc.constant("text"), text, cache_control: cacheControl, citations: fc.constant(null) }, { requiredKeys: ["type", "text"] });
const imageBlock = fc.record({ type: fc.constant("image"), source: fc.oneof({ weight: 4, arbitrary: base64Source }, { weight: 4, arbitrary: urlSource }, fileSource), cache_control: cacheControl }, { requiredKeys: ["type", "source"] });
const documentBlock = fc.record(
  { type: fc.constant("document"), source: fc.oneof({ weight: 3, arbitrary: base64Source }, { weight: 3, arbitrary: urlSource }, { weight: 3, arbitrary: textSource }, fileSource), title: fc.option(text), cache_control: cacheControl },
  { requiredKeys: ["type", "source"] },
);
const toolUseBlock = fc.record({ type: fc.constant("tool_use"), id, name, input: fc.oneof(jsonObject, fc.jsonValue({ maxDepth: 2 })) });
const toolResultBlock = fc.record(
  {
    type: fc.constant("tool_result"),
    tool_use_id: id,
    content: fc.oneof(text, fc.array(fc.oneof(textBlock, imageBlock, documentBlock), { maxLength: 3 })),
    is_error: fc.boolean(),
    cache_control: cacheControl,
  },
  { requiredKeys: ["type", "tool_use_id"] },
);
/** Ours (it round-trips to a reasoning item), another provider's, or a forged `tpk1.` one. */
const signature = fc.oneof(
  fc.record({ id: fc.string({ maxLength: 8 }), encryptedContent: fc.string({ maxLength: 16 }) }).map(encodeThinkingSignature),
  fc.base64String({ maxLength: 24 }),
  fc.string({ maxLength: 12 }).map((tail) => `tpk1.${tail}`),
);
const thinkingBlock = fc.record({ type: fc.constant("thinking"), thinking: text, signature }, { requiredKeys: ["type", "thinking"] });
const redactedThinkingBlock = fc.record({ type: fc.constant("redacted_thinking"), data: signature });
/** What Claude Code sends back after a web search, and block types the gateway refuses. */
// The schema checks only the type of blocks it does not know: their other fields may be anything.
const serverToolUseBlock = fc.record({
  type: fc.constant("server_tool_use"),
  id: fc.oneof({ weight: 6, arbitrary: id }, hostileValue),
  name: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("web_search", "code_execution") }, hostileValue),
  input: fc.oneof(fc.record({ query: fc.oneof(text, hostileValue) }), jsonObject),
});
const webSearchResultBlock = fc.record({ type: fc.constant("web_search_tool_result"), tool_use_id: id, content: fc.constant([]) });
const unknownBlock = fc.record({ type: fc.oneof(fc.constantFrom("video", "search_result", "container_upload"), fc.constantFrom(...prototypeKeys)), data: text });

/** Each kind of block a client may send; the ones refused in that place come seldom. */
const userBlock = fc.oneof(
  { weight: 8, arbitrary: textBlock },
  { weight: 2, arbitrary: imageBlock },
  { weight: 2, arbitrary: documentBlock },
  { weight: 4, arbitrary: toolResultBlock },
  { weight: 1, arbitrary: fc.oneof(thinkingBlock, toolUseBlock, unknownBlock) },
);
const assistantBlock = fc.oneof(
  { weight: 8, arbitrary: textBlock },
  { weight: 6, arbitrary: toolUseBlock },
  { weight: 4, arbitrary: thinkingBlock },
  { weight: 2, arbitrary: redactedThinkingBlock },
  { weight: 2, arbitrary: serverToolUseBlock },
  { weight: 2, arbitrary: webSearchResultBlock },
  { weight: 1, arbitrary: fc.oneof(imageBlock, toolResultBlock, unknownBlock) },
);

const message = fc.oneof(
  { weight: 5, arbitrary: fc.record({ role: fc.constant("user"), content: fc.oneof(text, fc.array(userBlock, { maxLength: 4 })) }) },
  { weight: 4, arbitrary: fc.record({ role: fc.constant("assistant"), content: fc.oneof(text, fc.array(assistantBlock, { maxLength: 4 })) }) },
  { weight: 1, arbitrary: fc.record({ role: fc.constant("system"), content: fc.oneof(text, fc.array(fc.oneof({ weight: 9, arbitrary: textBlock }, imageBlock), { maxLength: 2 })) }) },
);

const tool = fc.oneof(
  { weight: 12, arbitrary: fc.record({ name, description: text, input_schema: jsonObject, cache_control: cacheControl }, { requiredKeys: ["name"] }) },
  { weight: 3, arbitrary: fc.record({ name: fc.constant("web_search"), type: fc.constantFrom("web_search_20250305", "web_search_20260101"), allowed_domains: fc.array(fc.domain(), { maxLength: 2 }) }, { requiredKeys: ["name", "type"] }) },
  fc.record({ name, type: fc.oneof(fc.constantFrom("custom", "bash_20250124", "text_editor_20250728", "computer_20250124"), fc.constantFrom(...prototypeKeys)) }),
);

const effort = fc.oneof({ weight: 8, arbitrary: fc.constantFrom("low", "medium", "high", "max", "xhigh", "minimal", "") }, fc.constantFrom(...prototypeKeys), fc.string({ maxLength: 6 }));

/** The optional fields of a Messages request, every one of a valid type. */
const optionalFields = {
  system: fc.oneof(text, fc.array(textBlock, { maxLength: 3 })),
  max_tokens: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 128_000 })),
  temperature: fc.double({ min: 0, max: 1, noNaN: true }),
  top_p: fc.double({ min: 0, max: 1, noNaN: true }),
  top_k: fc.integer({ min: 0, max: 500 }),
  stop_sequences: fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 3 }),
  stream: fc.boolean(),
  tools: fc.array(tool, { maxLength: 3 }),
  tool_choice: fc.record({ type: fc.constantFrom("auto", "any", "tool", "none"), name, disable_parallel_tool_use: fc.boolean() }, { requiredKeys: ["type", "name"] }),
  thinking: fc.record({ type: fc.constantFrom("enabled", "disabled", "adaptive"), budget_tokens: fc.integer({ min: 0, max: 64_000 }) }, { requiredKeys: ["type"] }),
  output_config: fc.record({ effort }, { requiredKeys: [] }),
  metadata: fc.record(
    { user_id: fc.oneof(fc.constant(null), text, fc.record({ session_id: fc.oneof(text, fc.integer()), device_id: text }, { requiredKeys: [] }).map((value) => JSON.stringify(value))) },
    { requiredKeys: [] },
  ),
  context_management: fc.record(
    { edits: fc.array(fc.record({ type: fc.oneof({ weight: 9, arbitrary: fc.constant("clear_thinking_20251015") }, fc.constantFrom("clear_tool_uses_20250919", "__proto__")) }), { maxLength: 2 }) },
    { requiredKeys: [] },
  ),
  service_tier: fc.constantFrom("auto", "standard_only"),
  mcp_servers: fc.constant([{ type: "url", url: "https://mcp.example", name: "x" }]),
  container: fc.string({ maxLength: 6 }),
};

/** Rare fields: each is refused, so they appear seldom, to let the rest be converted. */
const rareFields = new Set(["top_k", "mcp_servers", "container"]);

/** A valid Anthropic Messages request: it passes `messagesRequestSchema`. */
export const messagesRequest: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record({ model: fc.constantFrom("claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5.5", "x"), messages: fc.array(message, { minLength: 1, maxLength: 5 }), ...optionalFields }, { requiredKeys: ["model", "messages"] }),
    fc.nat(9),
  )
  .map(([request, rare]) => {
    // One request in ten keeps the refused fields it drew.
    if (rare === 0) return request;
    return Object.fromEntries(Object.entries(request).filter(([key]) => !rareFields.has(key)));
  });
