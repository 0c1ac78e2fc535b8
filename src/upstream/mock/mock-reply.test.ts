import { describe, expect, it } from "vitest";
import { decideMockReply } from "./mock-reply";

const tool = (name: string) => ({ type: "function", name, parameters: { type: "object", properties: {} } });
const ask = (text: string, ...tools: string[]) => decideMockReply({ input: [{ type: "message", role: "user", content: [{ type: "input_text", text }] }], tools: tools.map(tool) });

describe("decideMockReply", () => {
  it("runs a command with the shell tool each agent offers, in its argument shape", () => {
    expect(ask("run ls -la", "exec_command")).toEqual({ kind: "function_call", name: "exec_command", arguments: '{"cmd":"ls -la"}' });
    expect(ask("run ls", "shell")).toEqual({ kind: "function_call", name: "shell", arguments: '{"command":["bash","-lc","ls"]}' });
    expect(ask("run ls", "Bash")).toEqual({ kind: "function_call", name: "Bash", arguments: '{"command":"ls","description":"Run ls"}' });
    // opencode and qwen-code, over Chat Completions.
    expect(ask("please run `echo hi` and tell me", "read", "bash")).toEqual({ kind: "function_call", name: "bash", arguments: '{"command":"echo hi","description":"Run echo hi"}' });
    expect(ask("run pwd", "read_file", "run_shell_command")).toEqual({ kind: "function_call", name: "run_shell_command", arguments: '{"command":"pwd","description":"Run pwd"}' });
  });

  it("answers a tool result by quoting it, and echoes otherwise", () => {
    const body = { input: [{ type: "function_call", call_id: "c", name: "bash", arguments: "{}" }, { type: "function_call_output", call_id: "c", output: "hi\n" }] };
    expect(decideMockReply(body)).toEqual({ kind: "text", text: "The tool returned: hi" });
    expect(ask("run ls")).toEqual({ kind: "text", text: "Echo: run ls" });
  });
});
