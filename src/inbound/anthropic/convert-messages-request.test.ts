import { describe, expect, it } from "vitest";
import { capturedBody, capturedHeaders, claudeCaptures } from "../../../test/workers/support/client-fixtures";
import { defaultModelMap } from "../../configuration/configuration";
import { convertMessagesRequest, reasoningEffort } from "./convert-messages-request";
import { messagesRequestSchema, type MessagesRequest } from "./messages-api";
import { encodeThinkingSignature } from "./thinking-signature";
import { responseToAnthropicMessage } from "./convert-responses-response";

const options = { modelMap: defaultModelMap };

function parse(body: Record<string, unknown>): MessagesRequest {
  return messagesRequestSchema.parse(body);
}

type Item = { type?: string; role?: string; content?: unknown; call_id?: string; output?: unknown; arguments?: string; name?: string };

describe("golden: every captured Claude Code request", () => {
  for (const name of claudeCaptures) {
    it(`${name}: keeps every message, tool, tool result and cache hint`, () => {
      const body = capturedBody(name);
      const source = parse(body);
      const { request, sessionId } = convertMessagesRequest(source, options);
      const input = request.input as Item[];

      // System → instructions, every block's text.
      for (const block of source.system as { text: string }[]) expect(request.instructions).toContain(block.text);
      // Every tool, as a function tool with its schema.
      const tools = request.tools as { type: string; name: string; parameters: unknown }[];
      expect(tools.map((tool) => tool.name)).toEqual(source.tools!.map((tool) => tool.name));
      for (const [index, tool] of tools.entries()) expect(tool.parameters).toEqual(source.tools![index]!.input_schema);
      // Every text block of every message, in order, and every tool use / result.
      const texts = JSON.stringify(input);
      for (const message of source.messages) {
        const blocks = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
        for (const block of blocks as Record<string, unknown>[]) {
          if (block.type === "text") expect(texts).toContain(JSON.stringify(block.text).slice(1, -1));
          if (block.type === "tool_use") expect(input).toContainEqual(expect.objectContaining({ type: "function_call", call_id: block.id, name: block.name, arguments: JSON.stringify(block.input) }));
          if (block.type === "tool_result") expect(input).toContainEqual(expect.objectContaining({ type: "function_call_output", call_id: block.tool_use_id }));
        }
      }
      // Mid-conversation system messages stay in place, as developer items.
      const roles = input.filter((item) => item.type === "message").map((item) => item.role);
      const expectedRoles = source.messages.flatMap((message) => {
        const blocks = typeof message.content === "string" ? [{ type: "text" }] : message.content;
        const kinds = (blocks as { type: string }[]).map((block) => block.type);
        if (message.role === "system") return ["developer"];
        if (message.role === "assistant") return kinds.some((kind) => kind === "text") ? ["assistant"] : [];
        return kinds.some((kind) => kind !== "tool_result") ? ["user"] : [];
      });
      expect(roles).toEqual(expectedRoles);
      // The session inside metadata.user_id becomes the cache key and the session identity.
      const userId = JSON.parse(source.metadata!.user_id!) as { session_id: string };
      expect(sessionId).toBe(userId.session_id);
      expect(request.prompt_cache_key).toBe(userId.session_id);
      expect(capturedHeaders(name)["x-claude-code-session-id"] ?? userId.session_id).toBe(userId.session_id);
      // Model mapped, always streamed, encrypted reasoning requested when thinking is on.
      expect(request.model).toMatch(/^gpt-/);
      expect(request).toMatchObject({ stream: true, store: false, max_output_tokens: source.max_tokens });
      if (source.thinking?.type !== "disabled") expect(request.include).toEqual(["reasoning.encrypted_content"]);
    });
  }

  it("the tool round trip maps tool_use/tool_result to function_call/function_call_output with the same id", () => {
    const { request } = convertMessagesRequest(parse(capturedBody("claudeToolResult")), options);
    const input = request.input as Item[];
    const call = input.find((item) => item.type === "function_call")!;
    const output = input.find((item) => item.type === "function_call_output")!;
    expect(call.call_id).toBe(output.call_id);
    expect(call.name).toBe("Bash");
    // The call as the gateway's mock made it (scripts/capture-clients.sh), run by Claude Code.
    expect(JSON.parse(call.arguments!)).toEqual({ command: "echo hello-from-tool", description: "Run echo hello-from-tool" });
    expect(output.output).toBe("hello-from-tool");
  });
});

describe("blocks", () => {
  const base = { model: "claude-opus-4-8", max_tokens: 100 };

  it("images (base64 and URL), documents, tool results with images and is_error", () => {
    const { request } = convertMessagesRequest(
      parse({
        ...base,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
              { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" }, title: "spec.pdf" },
              { type: "text", text: "what is this?" },
            ],
          },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Read", input: { path: "a.png" } }] },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", is_error: true, content: [{ type: "text", text: "denied" }] },
              { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/" } }] },
            ],
          },
        ],
      }),
      options,
    );
    const input = request.input as Item[];
    expect(input[0]!.content).toEqual([
      { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
      { type: "input_image", image_url: "https://example.com/a.png", detail: "auto" },
      { type: "input_file", filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
      { type: "input_text", text: "what is this?" },
    ]);
    expect(input[2]).toEqual({ type: "function_call_output", call_id: "toolu_1", output: "[tool error]\ndenied" });
    expect(input[3]).toEqual({ type: "function_call_output", call_id: "toolu_2", output: [{ type: "input_image", image_url: "data:image/jpeg;base64,/9j/", detail: "auto" }] });
  });

  it("thinking blocks with our signature become reasoning items again; foreign ones are noted", () => {
    const signature = encodeThinkingSignature({ id: "rs_1", encryptedContent: "gAAAA-secret" });
    const { request, notes } = convertMessagesRequest(
      parse({
        ...base,
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: [{ type: "thinking", thinking: "pondering", signature }, { type: "redacted_thinking", data: "foreign" }, { type: "text", text: "hello" }] },
          { role: "user", content: "again" },
        ],
      }),
      options,
    );
    expect((request.input as Item[])[1]).toEqual({ type: "reasoning", id: "rs_1", encrypted_content: "gAAAA-secret", summary: [{ type: "summary_text", text: "pondering" }] });
    expect(notes).toHaveLength(1);
  });

  it("tools, tool_choice and parallel calls", () => {
    const tools = [{ name: "Bash", description: "run", input_schema: { type: "object", properties: { command: { type: "string" } } } }];
    const convert = (tool_choice: unknown) => convertMessagesRequest(parse({ ...base, messages: [{ role: "user", content: "x" }], tools, tool_choice }), options).request;
    expect(convert({ type: "auto" }).tool_choice).toBe("auto");
    expect(convert({ type: "any" }).tool_choice).toBe("required");
    expect(convert({ type: "none" }).tool_choice).toBe("none");
    expect(convert({ type: "tool", name: "Bash", disable_parallel_tool_use: true })).toMatchObject({ tool_choice: { type: "function", name: "Bash" }, parallel_tool_calls: false });
    const web = convertMessagesRequest(parse({ ...base, messages: [{ role: "user", content: "x" }], tools: [{ type: "web_search_20250305", name: "web_search" }] }), options).request;
    expect(web.tools).toEqual([{ type: "web_search" }]);
  });

  it.each([
    [{ thinking: { type: "adaptive" } }, "medium"],
    [{ thinking: { type: "enabled", budget_tokens: 2000 } }, "low"],
    [{ thinking: { type: "enabled", budget_tokens: 10000 } }, "medium"],
    [{ thinking: { type: "enabled", budget_tokens: 31999 } }, "high"],
    [{ thinking: { type: "adaptive" }, output_config: { effort: "max" } }, "xhigh"],
    [{ output_config: { effort: "low" } }, "low"],
    [{ thinking: { type: "disabled" } }, undefined],
    [{}, undefined],
  ])("%o → effort %s", (fields, effort) => {
    expect(reasoningEffort(parse({ ...base, messages: [], ...fields }))).toBe(effort);
  });

  // Found by convert-messages-request.property.test.ts: a TypeError (a 500), or an id of "[object Object]".
  it.each([
    [{ name: [{ toString: 0 }], id: "srvtoolu_1" }, "messages[0].content[0]"],
    [{ name: "web_search", id: [{ toString: 0 }] }, "messages[0].content[0].id"],
    [{ name: "web_search", id: { a: 1 } }, "messages[0].content[0].id"],
  ])("a server_tool_use block with fields of the wrong type is refused with a 400: %o", (fields, param) => {
    const content = [{ type: "server_tool_use", input: { query: "q" }, ...fields }];
    expect(() => convertMessagesRequest(parse({ ...base, messages: [{ role: "assistant", content }] }), options)).toThrowError(expect.objectContaining({ status: 400, param }));
  });

  // Found by convert-messages-request.property.test.ts: `__proto__` gave `reasoning.effort: {}`.
  it.each(["__proto__", "constructor", "toString", "ultra"])("an effort named %s is refused with a 400 naming it", (effort) => {
    expect(() => reasoningEffort(parse({ ...base, messages: [], output_config: { effort } }))).toThrowError(expect.objectContaining({ status: 400, param: "output_config.effort" }));
  });

  it.each([
    [{ top_k: 5 }, "top_k"],
    [{ tools: [{ type: "bash_20250124", name: "bash" }] }, "tools"],
    [{ context_management: { edits: [{ type: "clear_tool_uses_20250919" }] } }, "context_management"],
    [{ messages: [{ role: "assistant", content: [{ type: "server_tool_use", id: "x", name: "y", input: {} }] }] }, "messages[0].content[0]"],
    [{ mcp_servers: [{ url: "https://mcp" }] }, "mcp_servers"],
  ])("refuses what has no equivalent with a 400 naming it: %o", (fields, param) => {
    expect(() => convertMessagesRequest(parse({ ...base, messages: [{ role: "user", content: "x" }], ...fields }), options)).toThrowError(
      expect.objectContaining({ status: 400, param }),
    );
  });

  it("a conversation that used web search continues: the search goes back as the upstream's own item", async () => {
    const { recordedStreams } = await import("../../../test/workers/support/recorded-streams");
    const lines = recordedStreams.webSearch.split("\n").filter((line) => line.startsWith("data: "));
    const completed = JSON.parse(lines.at(-1)!.slice("data: ".length)).response;
    const assistant = responseToAnthropicMessage(completed, { model: "claude-opus-4-8" });
    const content = assistant.content as { type: string }[];
    expect(content.map((block) => block.type)).toContain("web_search_tool_result");
    const next = convertMessagesRequest(
      parse({ ...base, messages: [{ role: "user", content: "when did Webb launch?" }, { role: "assistant", content }, { role: "user", content: "and when did it arrive?" }] }),
      options,
    ).request;
    const input = next.input as Item[];
    const search = completed.output.find((item: { type: string }) => item.type === "web_search_call");
    expect(input.find((item) => item.type === "web_search_call")).toEqual({ type: "web_search_call", id: search.id, status: "completed", action: { type: "search", query: search.action.query } });
    expect(input.map((item) => item.type ?? item.role)).toEqual(["message", "web_search_call", "message", "message"]);
  });

  it("a known block type with missing fields is the client's mistake, not another block type", () => {
    for (const content of [[{ type: "image", source: { type: "base64" } }], [{ type: "tool_use" }], [{ type: "tool_result" }]]) {
      const parsed = messagesRequestSchema.safeParse({ ...base, messages: [{ role: "user", content }] });
      expect(parsed.success).toBe(false);
    }
  });

  it("structured outputs (output_config.format, Claude Code's session titles) → text.format; other formats are refused", () => {
    const schema = { type: "object", properties: { title: { type: "string" } }, required: ["title"], additionalProperties: false };
    const converted = convertMessagesRequest(parse({ ...base, messages: [{ role: "user", content: "x" }], output_config: { effort: "medium", format: { type: "json_schema", schema } } }), options).request;
    expect(converted.text).toEqual({ format: { type: "json_schema", name: "output", schema, strict: true } });
    expect(converted.reasoning).toEqual({ effort: "medium", summary: "auto" });
    expect(() => convertMessagesRequest(parse({ ...base, messages: [], output_config: { format: { type: "xml" } } }), options)).toThrowError(expect.objectContaining({ status: 400, param: "output_config.format" }));
  });

  it("model names map through MODEL_MAP patterns, others pass through", () => {
    const model = (name: string) => convertMessagesRequest(parse({ ...base, model: name, messages: [] }), options).request.model;
    expect(model("claude-opus-4-8")).toBe("gpt-5.5");
    expect(model("claude-haiku-4-5")).toBe("gpt-5.5-mini");
    expect(model("gpt-5.4")).toBe("gpt-5.4");
  });
});
