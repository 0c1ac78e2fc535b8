// The bodies the soak's clients send: Codex-like Responses requests (a developer item, the
// exec_command tool, store: false, the history growing every turn) and Claude-Code-like
// Anthropic Messages requests. Each turn's newest item carries the turn's tag.
import { tagText } from "./fault-injector";
import type { Random } from "./prng";

export type Item = Record<string, unknown>;

const words = ["list", "the", "files", "then", "fix", "the", "failing", "test", "and", "run", "it", "again", "please"];

export function developerItem(): Item {
  return { type: "message", role: "developer", content: [{ type: "input_text", text: "You are a coding agent under a chaos soak. Keep answers short." }] };
}

export function userItem(tag: string, random: Random): Item {
  const text = Array.from({ length: random.integer(3, 12) }, () => random.pick(words)).join(" ");
  return { type: "message", role: "user", content: [{ type: "input_text", text: `${text} ${tagText(tag)}` }] };
}

export function toolOutputItem(callId: string, tag: string): Item {
  return { type: "function_call_output", call_id: callId, output: `${tagText(tag)} exit code 0\nsrc/index.ts\nsrc/app.ts` };
}

const execCommandTool = {
  type: "function",
  name: "exec_command",
  description: "Runs a shell command and returns its output.",
  strict: false,
  parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"], additionalProperties: false },
};

/** A Codex CLI request (protocol notes §3): every field but `input` the same on every turn. */
export function codexRequest(sessionKey: string | undefined, input: Item[], stream: boolean): Item {
  return {
    model: "gpt-5.5",
    input,
    tools: [execCommandTool],
    tool_choice: "auto",
    parallel_tool_calls: false,
    reasoning: { effort: "medium", summary: "auto" },
    store: false,
    stream,
    include: ["reasoning.encrypted_content"],
    ...(sessionKey ? { prompt_cache_key: sessionKey } : {}),
  };
}

/** The call a function_call output item asks for, if the output holds one. */
export function pendingCall(output: Item[]): string | undefined {
  const call = output.find((item) => item.type === "function_call");
  return typeof call?.call_id === "string" ? call.call_id : undefined;
}

/** The same value with its keys in reverse order: equal as a structure, different as text (Codex). */
export function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reorderKeys(item)]));
  }
  return value;
}

// ---------------------------------------------------------------- Anthropic Messages

export type AnthropicMessage = { role: "user" | "assistant"; content: Item[] };

export function anthropicUserMessage(tag: string, pendingToolUseId: string | undefined, random: Random): AnthropicMessage {
  if (pendingToolUseId) {
    return { role: "user", content: [{ type: "tool_result", tool_use_id: pendingToolUseId, content: `${tagText(tag)} exit code 0` }] };
  }
  const text = Array.from({ length: random.integer(3, 12) }, () => random.pick(words)).join(" ");
  return { role: "user", content: [{ type: "text", text: `${text} ${tagText(tag)}` }] };
}

export function anthropicRequest(messages: AnthropicMessage[], stream: boolean): Item {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    system: [{ type: "text", text: "You are Claude Code under a chaos soak." }],
    tools: [{ name: "exec_command", description: "Runs a shell command.", input_schema: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] } }],
    messages,
    stream,
  };
}

/** The assistant's content blocks from a streamed Anthropic answer (text and tool_use blocks). */
export function anthropicContentFromEvents(events: { data: string }[]): Item[] {
  const blocks: Item[] = [];
  const partialJson = new Map<number, string>();
  for (const event of events) {
    let data: Record<string, any>;
    try {
      data = JSON.parse(event.data);
    } catch {
      continue;
    }
    if (data.type === "content_block_start" && data.content_block) {
      blocks[data.index] = { ...data.content_block };
    } else if (data.type === "content_block_delta") {
      const block = blocks[data.index];
      if (block && data.delta?.type === "text_delta") block.text = `${String(block.text ?? "")}${data.delta.text}`;
      if (data.delta?.type === "input_json_delta") partialJson.set(data.index, `${partialJson.get(data.index) ?? ""}${data.delta.partial_json}`);
    }
  }
  for (const [index, text] of partialJson) {
    const block = blocks[index];
    if (!block) continue;
    try {
      block.input = JSON.parse(text);
    } catch {
      block.input = {};
    }
  }
  return blocks.filter((block) => block && (block.type === "text" || block.type === "tool_use"));
}

export function pendingToolUse(content: Item[]): string | undefined {
  const use = content.find((block) => block.type === "tool_use");
  return typeof use?.id === "string" ? use.id : undefined;
}
