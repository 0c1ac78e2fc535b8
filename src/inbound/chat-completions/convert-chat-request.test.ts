import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../errors/gateway-error";
import { convertChatRequest, minimumOutputTokens } from "./convert-chat-request";

const model = "gpt-5.5";
type Item = Record<string, unknown>;

function convert(body: Record<string, unknown>) {
  return convertChatRequest({ model, messages: [{ role: "user", content: "hi" }], ...body });
}

function refusal(body: unknown): GatewayError {
  try {
    convertChatRequest(body);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("the request was accepted");
}

const shellTool = {
  type: "function",
  function: {
    name: "bash",
    description: "Executes a given bash command",
    parameters: { type: "object", properties: { command: { type: "string" }, description: { type: "string" } }, required: ["command", "description"] },
  },
};

describe("a tool round trip as opencode and qwen-code send it", () => {
  const body = {
    model,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 32000,
    temperature: 0,
    tools: [shellTool],
    tool_choice: "auto",
    messages: [
      { role: "system", content: "You are opencode, an interactive CLI tool." },
      { role: "system", content: "Here is some useful information about the environment you are running in: …" },
      { role: "user", content: [{ type: "text", text: "run ls" }] },
      {
        role: "assistant",
        content: "Listing files.",
        reasoning_content: "The user wants a listing.",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "bash", arguments: '{"command":"ls","description":"List files"}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "README.md\nsrc" },
    ],
  };

  it("leading system messages → instructions; the rest → items with the client's call ids", () => {
    const converted = convertChatRequest(body);
    expect(converted.request).toEqual({
      model,
      stream: true,
      store: false,
      instructions: "You are opencode, an interactive CLI tool.\n\nHere is some useful information about the environment you are running in: …",
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "run ls" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Listing files.", annotations: [] }] },
        { type: "function_call", call_id: "call_1", name: "bash", arguments: '{"command":"ls","description":"List files"}' },
        { type: "function_call_output", call_id: "call_1", output: "README.md\nsrc" },
      ],
      max_output_tokens: 32000,
      temperature: 0,
      tools: [{ type: "function", name: "bash", description: "Executes a given bash command", parameters: shellTool.function.parameters, strict: false }],
      tool_choice: "auto",
    });
    expect(converted).toMatchObject({ model, stop: [], clientMaxTokens: undefined, includeUsage: true, stream: true });
    expect(converted.notes).toEqual(["messages[3]: reasoning text was not replayed (only the upstream's own encrypted reasoning can be)"]);
  });

  it("the same history converts to the same items on the next turn (a session can compare it)", () => {
    const next = { ...body, messages: [...body.messages, { role: "assistant", content: "Two entries." }, { role: "user", content: "thanks" }] };
    const first = convertChatRequest(body).request.input as Item[];
    const second = convertChatRequest(next).request.input as Item[];
    expect(second.slice(0, first.length)).toEqual(first);
  });
});

describe("messages", () => {
  it("a system or developer message after the conversation started → a developer item in place", () => {
    const { request } = convert({
      messages: [
        { role: "developer", content: [{ type: "text", text: "Be brief." }] },
        { role: "user", content: "a" },
        { role: "system", content: "Now be verbose." },
        { role: "user", content: "b" },
      ],
    });
    expect(request.instructions).toBe("Be brief.");
    expect((request.input as Item[]).map((item) => item.role)).toEqual(["user", "developer", "user"]);
    expect((request.input as Item[])[1]).toEqual({ type: "message", role: "developer", content: [{ type: "input_text", text: "Now be verbose." }] });
  });

  it("images (URL, data URL, detail), files (data, bare base64, id) and cache breakpoints", () => {
    const { request } = convert({
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "https://example.com/a.png" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
            { type: "file", file: { filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
            { type: "file", file: { file_data: "JVBERi0=" } },
            { type: "file", file: { file_id: "file-abc" } },
            { type: "text", text: "what is this?", prompt_cache_breakpoint: { mode: "explicit" } },
          ],
        },
      ],
    });
    expect((request.input as Item[])[0]!.content).toEqual([
      { type: "input_image", image_url: "https://example.com/a.png", detail: "auto" },
      { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" },
      { type: "input_file", filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
      { type: "input_file", filename: "file.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
      { type: "input_file", file_id: "file-abc" },
      { type: "input_text", text: "what is this?", prompt_cache_breakpoint: { mode: "explicit" } },
    ]);
  });

  it("assistant refusals, text parts, an empty assistant turn, custom tool calls and their outputs", () => {
    const { request } = convert({
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: [{ type: "text", text: "x" }, { type: "refusal", refusal: "no" }] },
        { role: "assistant", content: null, refusal: "I can't." },
        { role: "assistant", content: "" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_p", type: "custom", custom: { name: "apply_patch", input: "*** Begin Patch" } }] },
        { role: "tool", tool_call_id: "call_p", content: [{ type: "text", text: "Done" }, { type: "text", text: "!" }] },
      ],
    });
    expect((request.input as Item[]).slice(1)).toEqual([
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "x", annotations: [] }, { type: "refusal", refusal: "no" }] },
      { type: "message", role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
      { type: "custom_tool_call", call_id: "call_p", name: "apply_patch", input: "*** Begin Patch" },
      { type: "custom_tool_call_output", call_id: "call_p", output: "Done\n!" },
    ]);
  });

  it("message names are noted, not carried", () => {
    const { request, notes } = convert({ messages: [{ role: "user", content: "a", name: "alice" }] });
    expect((request.input as Item[])[0]).toEqual({ type: "message", role: "user", content: [{ type: "input_text", text: "a" }] });
    expect(notes).toEqual(["message names were not carried (Responses has none): messages[0]"]);
  });
});

describe("parameters", () => {
  it("tools: strict kept or false, no parameters → an empty object schema, custom tools, web search", () => {
    const { request } = convert({
      tools: [
        { type: "function", function: { name: "a", parameters: { type: "object", properties: {}, additionalProperties: false }, strict: true } },
        { type: "function", function: { name: "b" } },
        { type: "custom", custom: { name: "apply_patch", description: "patch", format: { type: "grammar", grammar: { syntax: "lark", definition: "start: x" } } } },
      ],
      web_search_options: { search_context_size: "low", user_location: { type: "approximate", approximate: { city: "Paris", country: "FR" } } },
    });
    expect(request.tools).toEqual([
      { type: "function", name: "a", parameters: { type: "object", properties: {}, additionalProperties: false }, strict: true },
      { type: "function", name: "b", parameters: { type: "object", properties: {} }, strict: false },
      { type: "custom", name: "apply_patch", description: "patch", format: { type: "grammar", grammar: { syntax: "lark", definition: "start: x" } } },
      { type: "web_search", search_context_size: "low", user_location: { type: "approximate", city: "Paris", country: "FR" } },
    ]);
  });

  it("tool_choice in every form", () => {
    const choice = (tool_choice: unknown) => convert({ tools: [shellTool], tool_choice }).request.tool_choice;
    expect(["none", "auto", "required"].map(choice)).toEqual(["none", "auto", "required"]);
    expect(choice({ type: "function", function: { name: "bash" } })).toEqual({ type: "function", name: "bash" });
    expect(choice({ type: "custom", custom: { name: "apply_patch" } })).toEqual({ type: "custom", name: "apply_patch" });
    expect(choice({ type: "allowed_tools", allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "bash" } }] } })).toEqual({
      type: "allowed_tools",
      mode: "required",
      tools: [{ type: "function", name: "bash" }],
    });
    expect(refusal({ model, messages: [{ role: "user", content: "x" }], tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: "function" }] } } }).param).toBe(
      "tool_choice.allowed_tools.tools[0]",
    );
  });

  it("response_format and verbosity → text", () => {
    expect(convert({ response_format: { type: "json_object" } }).request.text).toEqual({ format: { type: "json_object" } });
    expect(convert({ response_format: { type: "text" }, verbosity: "low" }).request.text).toEqual({ format: { type: "text" }, verbosity: "low" });
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    expect(convert({ response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } } }).request.text).toEqual({
      format: { type: "json_schema", name: "answer", schema, strict: true },
    });
  });

  it("reasoning_effort → reasoning with a summary and encrypted content; none → no summary", () => {
    expect(convert({ reasoning_effort: "high" }).request).toMatchObject({ reasoning: { effort: "high", summary: "auto" }, include: ["reasoning.encrypted_content"] });
    const none = convert({ reasoning_effort: "none" }).request;
    expect(none.reasoning).toEqual({ effort: "none" });
    expect(none.include).toBeUndefined();
    expect(refusal({ model, messages: [{ role: "user", content: "x" }], reasoning_effort: "maximal" }).param).toBe("reasoning_effort");
  });

  it("max tokens: the upstream's floor of 16, the client's limit returned for the gateway's cut", () => {
    expect(convert({ max_tokens: 1 })).toMatchObject({ request: { max_output_tokens: minimumOutputTokens }, clientMaxTokens: 1 });
    expect(convert({ max_completion_tokens: 15 })).toMatchObject({ request: { max_output_tokens: 16 }, clientMaxTokens: 15 });
    expect(convert({ max_completion_tokens: 16 })).toMatchObject({ request: { max_output_tokens: 16 }, clientMaxTokens: undefined });
    const both = convert({ max_tokens: 100, max_completion_tokens: 200 });
    expect(both).toMatchObject({ request: { max_output_tokens: 200 }, clientMaxTokens: undefined, notes: ["max_tokens was ignored: max_completion_tokens is set"] });
    expect(refusal({ model, messages: [{ role: "user", content: "x" }], max_tokens: 0 }).param).toBe("max_tokens");
  });

  it("pass-through fields, store defaulting to false, stop as a list", () => {
    const converted = convert({
      top_p: 0.9,
      user: "u1",
      safety_identifier: "s1",
      metadata: { a: "b" },
      service_tier: "flex",
      prompt_cache_key: "k",
      prompt_cache_retention: "24h",
      parallel_tool_calls: false,
      store: true,
      stop: "\n\n",
    });
    expect(converted.request).toMatchObject({ top_p: 0.9, user: "u1", safety_identifier: "s1", metadata: { a: "b" }, service_tier: "flex", prompt_cache_key: "k", prompt_cache_retention: "24h", parallel_tool_calls: false, store: true });
    expect(converted.stop).toEqual(["\n\n"]);
    expect(convert({ stop: ["a", "", "b"] }).stop).toEqual(["a", "b"]);
    expect(convert({ stream: false }).stream).toBe(false);
  });

  it("neutral values of fields without an equivalent are accepted (older LangChain sends them); seed and extras are noted", () => {
    const converted = convert({ n: 1, frequency_penalty: 0, presence_penalty: 0, logit_bias: {}, logprobs: false, top_logprobs: 0, modalities: ["text"], audio: null, seed: 7, top_k: 40 });
    expect(converted.notes).toEqual(["seed was not carried (Responses has no seed; determinism was never guaranteed)", "ignored fields: top_k"]);
    for (const field of ["n", "frequency_penalty", "seed", "top_k", "logprobs"]) expect(converted.request).not.toHaveProperty(field);
  });
});

describe("refused with a 400 that names the field", () => {
  const base = { model, messages: [{ role: "user", content: "x" }] };
  const cases: [string, Record<string, unknown>, string][] = [
    ["n > 1", { n: 2 }, "n"],
    ["frequency_penalty", { frequency_penalty: 0.5 }, "frequency_penalty"],
    ["presence_penalty", { presence_penalty: -1 }, "presence_penalty"],
    ["logit_bias", { logit_bias: { "50256": -100 } }, "logit_bias"],
    ["logprobs", { logprobs: true }, "logprobs"],
    ["top_logprobs", { top_logprobs: 3 }, "top_logprobs"],
    ["audio output", { modalities: ["text", "audio"] }, "modalities"],
    ["audio", { audio: { voice: "alloy", format: "wav" } }, "audio"],
    ["prediction", { prediction: { type: "content", content: "x" } }, "prediction"],
    ["legacy functions", { functions: [{ name: "f" }] }, "functions"],
    ["legacy function_call", { function_call: "auto" }, "function_call"],
    ["audio input", { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAA", format: "wav" } }] }] }, "messages[0].content[0]"],
    ["an unknown part type", { messages: [{ role: "user", content: [{ type: "video_url", video_url: {} }] }] }, "messages[0].content[0]"],
    ["a known part with the wrong shape", { messages: [{ role: "user", content: [{ type: "image_url", image_url: "https://x" }] }] }, "messages[0].content[0]"],
    ["a role 'function' message", { messages: [{ role: "user", content: "x" }, { role: "function", name: "f", content: "1" }] }, "messages[1].role"],
    ["an assistant function_call", { messages: [{ role: "assistant", content: null, function_call: { name: "f", arguments: "{}" } }] }, "messages[0].function_call"],
    ["an unknown role", { messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
    ["a tool message without its call id", { messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
    ["an image in a system message", { messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, "messages[0].content[0]"],
    ["a file without data or id", { messages: [{ role: "user", content: [{ type: "file", file: { filename: "a.pdf" } }] }] }, "messages[0].content[0].file"],
    ["no messages", { messages: [] }, "messages"],
    ["no model", { model: undefined }, "model"],
    ["a tool of another type", { tools: [{ type: "retrieval" }] }, "tools[0].type"],
    ["a bad response_format", { response_format: { type: "json_schema" } }, "response_format.json_schema"],
    ["stop of the wrong type", { stop: 3 }, "stop"],
    // Found by request-validation.property.test.ts: a TypeError, answered with a 500.
    ["an allowed tool whose type cannot be made text", { tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: [{ toString: 0 }], function: { name: "bash" } }] } } }, "tool_choice.allowed_tools.tools[0]"],
  ];
  for (const [name, fields, param] of cases) {
    it(name, () => {
      const error = refusal({ ...base, ...fields });
      expect(error.kind).toBe("invalid_request");
      expect(error.status).toBe(400);
      expect(error.param).toBe(param);
    });
  }

  it("a body that is not an object", () => {
    for (const body of [null, "x", [1], 3]) expect(refusal(body).status).toBe(400);
  });
});

describe("properties", () => {
  const text = fc.string({ maxLength: 12 });
  const textPart = fc.record({ type: fc.constant("text"), text });
  const userPart = fc.oneof(
    textPart,
    fc.record({ type: fc.constant("image_url"), image_url: fc.record({ url: fc.webUrl(), detail: fc.constantFrom("auto", "low", "high") }, { requiredKeys: ["url"] }) }),
    fc.record({ type: fc.constant("file"), file: fc.record({ file_data: text, file_id: text, filename: text }, { requiredKeys: [] }) }),
    fc.record({ type: fc.constant("input_audio"), input_audio: fc.record({ data: text, format: fc.constant("wav") }) }),
    fc.record({ type: fc.constantFrom("video", "text", "image_url"), other: text }),
  );
  const toolCall = fc.oneof(
    fc.record({ id: text, type: fc.constant("function"), function: fc.record({ name: text, arguments: text }) }),
    fc.record({ id: text, type: fc.constant("custom"), custom: fc.record({ name: text, input: text }) }),
  );
  const message = fc.oneof(
    fc.record({ role: fc.constantFrom("system", "developer"), content: fc.oneof(text, fc.array(fc.oneof(textPart, userPart), { maxLength: 2 })) }),
    fc.record({ role: fc.constant("user"), content: fc.oneof(text, fc.array(userPart, { maxLength: 3 })), name: text }, { requiredKeys: ["role", "content"] }),
    fc.record(
      {
        role: fc.constant("assistant"),
        content: fc.oneof(fc.constant(null), text, fc.array(fc.oneof(textPart, fc.record({ type: fc.constant("refusal"), refusal: text })), { maxLength: 2 })),
        refusal: fc.option(text),
        tool_calls: fc.array(toolCall, { maxLength: 3 }),
        function_call: fc.record({ name: text, arguments: text }),
        reasoning_content: text,
      },
      { requiredKeys: ["role"] },
    ),
    fc.record({ role: fc.constant("tool"), tool_call_id: text, content: fc.oneof(text, fc.array(textPart, { maxLength: 2 })) }, { requiredKeys: ["role", "content"] }),
    fc.record({ role: fc.constantFrom("function", "robot"), name: text, content: text }),
  );
  const tool = fc.oneof(
    fc.record({ type: fc.constant("function"), function: fc.record({ name: text, description: text, parameters: fc.dictionary(text, fc.jsonValue()), strict: fc.boolean() }, { requiredKeys: ["name"] }) }),
    fc.record({ type: fc.constant("custom"), custom: fc.record({ name: text }) }),
    fc.record({ type: text }),
  );
  const optional = {
    stream: fc.boolean(),
    stream_options: fc.record({ include_usage: fc.boolean() }),
    max_tokens: fc.integer({ min: -2, max: 40 }),
    max_completion_tokens: fc.integer({ min: 1, max: 100_000 }),
    temperature: fc.double({ noNaN: true }),
    stop: fc.oneof(text, fc.array(text, { maxLength: 4 })),
    tools: fc.array(tool, { maxLength: 3 }),
    tool_choice: fc.oneof(
      fc.constantFrom("none", "auto", "required", "sometimes"),
      fc.record({ type: fc.constant("function"), function: fc.record({ name: text }) }),
      fc.record({ type: fc.constant("allowed_tools"), allowed_tools: fc.record({ mode: fc.constantFrom("auto", "required"), tools: fc.array(fc.dictionary(text, fc.jsonValue()), { maxLength: 2 }) }) }),
    ),
    response_format: fc.oneof(
      fc.record({ type: fc.constantFrom("text", "json_object", "yaml") }),
      fc.record({ type: fc.constant("json_schema"), json_schema: fc.record({ name: text, schema: fc.dictionary(text, fc.jsonValue()), strict: fc.boolean() }, { requiredKeys: ["name"] }) }),
    ),
    reasoning_effort: fc.constantFrom("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    n: fc.integer({ min: 0, max: 3 }),
    seed: fc.integer(),
    frequency_penalty: fc.constantFrom(0, 0.5),
    logit_bias: fc.dictionary(text, fc.integer()),
    logprobs: fc.boolean(),
    modalities: fc.array(fc.constantFrom("text", "audio"), { maxLength: 2 }),
    web_search_options: fc.record({ search_context_size: fc.constantFrom("low", "high") }, { requiredKeys: [] }),
    metadata: fc.dictionary(text, text),
    extra_vendor_field: fc.jsonValue(),
  };
  const request = fc.record({ model: fc.constantFrom("gpt-5.5", ""), messages: fc.array(message, { maxLength: 6 }), ...optional }, { requiredKeys: ["model", "messages"] });

  /** Converted, or refused as the client's mistake with the field named; never anything else. */
  function convertsOrNamesTheField(body: unknown): void {
    try {
      const converted = convertChatRequest(body);
      expect(converted.request.stream).toBe(true);
      expect(Array.isArray(converted.request.input)).toBe(true);
      const maxOutput = converted.request.max_output_tokens;
      if (maxOutput !== undefined) expect(maxOutput).toBeGreaterThanOrEqual(minimumOutputTokens);
      JSON.stringify(converted.request);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      expect(error.kind).toBe("invalid_request");
      expect(error.param).toEqual(expect.any(String));
    }
  }

  it("any request shaped like Chat Completions converts, or is refused with a 400 naming the field", () => {
    fc.assert(fc.property(request, convertsOrNamesTheField), { numRuns: 500 });
  });

  it("any JSON value at all: a conversion or a 400, never another exception", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        try {
          convertChatRequest(body);
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error;
          expect(error.status).toBe(400);
        }
      }),
      { numRuns: 300 },
    );
  });
});
