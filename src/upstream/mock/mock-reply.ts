/**
 * What the built-in mock upstream answers, decided from the request alone (deterministic):
 * - the last input item is a tool result → a text that quotes it, ending the tool round trip;
 * - the last user text asks to "run <command>" and a shell-like tool is offered → a call to it
 *   (`exec_command` {cmd} as Codex offers, `shell` {command: [...]}, `Bash` {command} as Claude
 *   Code offers; for Chat Completions agents `bash` {command, description} as opencode offers —
 *   its 1.18 schema is {command, timeout?, workdir?}, earlier releases required `description`,
 *   and an extra field is ignored by its schema — and `run_shell_command` {command, description}
 *   as qwen-code offers, whose schema requires only `command`);
 * - the last user text says "call <tool name>" and that function tool is offered → a call to it
 *   with `{}`;
 * - otherwise → "Echo: <last user text>".
 */
import { isRecord } from "../../streams/responses-event";

export type MockReply =
  | { kind: "text"; text: string }
  | { kind: "function_call"; name: string; arguments: string };

export function decideMockReply(body: Record<string, unknown>): MockReply {
  const input = body.input;
  const items = typeof input === "string" ? [{ role: "user", content: input }] : Array.isArray(input) ? input : [];
  const last = items.at(-1);
  if (isRecord(last) && (last.type === "function_call_output" || last.type === "custom_tool_call_output")) {
    return { kind: "text", text: `The tool returned: ${outputText(last.output).trim().slice(0, 2000)}` };
  }
  const userText = lastUserText(items);
  const tools = functionToolNames(body.tools);

  const runRequest = /\brun\s+(?:`([^`]+)`|(.+?))(?:\s+and\b.*)?$/is.exec(userText);
  const command = runRequest?.[1] ?? runRequest?.[2];
  if (command) {
    if (tools.has("exec_command")) return call("exec_command", { cmd: command });
    if (tools.has("shell")) return call("shell", { command: ["bash", "-lc", command] });
    if (tools.has("Bash")) return call("Bash", { command, description: `Run ${command}` });
    if (tools.has("bash")) return call("bash", { command, description: `Run ${command}` });
    if (tools.has("run_shell_command")) return call("run_shell_command", { command, description: `Run ${command}` });
  }
  const callRequest = /\bcall\s+(?:the\s+)?(?:tool\s+)?`?([\w.-]+)`?/i.exec(userText);
  if (callRequest?.[1] && tools.has(callRequest[1])) return call(callRequest[1], {});

  return { kind: "text", text: userText ? `Echo: ${userText}` : "Hello from the Turnpike mock upstream." };
}

function call(name: string, args: Record<string, unknown>): MockReply {
  return { kind: "function_call", name, arguments: JSON.stringify(args) };
}

function lastUserText(items: unknown[]): string {
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const item = items[index];
    // The last text part: clients put context (environment, reminders) before the prompt.
    if (isRecord(item) && item.role === "user") return lastTextPart(item.content).trim();
  }
  return "";
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .filter(Boolean)
    .join("\n");
}

function lastTextPart(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  for (let index = content.length - 1; index >= 0; index -= 1) {
    const part = content[index];
    if (isRecord(part) && typeof part.text === "string" && part.text.trim()) return part.text;
  }
  return "";
}

function outputText(output: unknown): string {
  return typeof output === "string" ? output : contentText(output);
}

function functionToolNames(tools: unknown): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(tools)) return names;
  for (const tool of tools) if (isRecord(tool) && typeof tool.name === "string") names.add(tool.name);
  return names;
}
