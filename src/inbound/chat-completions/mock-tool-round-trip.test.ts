// A Chat Completions agent's shell tool round trip against the built-in mock, through the pure
// translators both ways and the openai SDK's stream helper: what `npm start` answers opencode
// (`bash`) and qwen-code (`run_shell_command`).
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { collect, streamOf } from "../../../test/workers/support/recorded-streams";
import { eventReaderOf } from "../../streams/event-reader";
import { eventFromPayload } from "../../streams/responses-event";
import { mockResponseEvents } from "../../upstream/mock/mock-events";
import { decideMockReply } from "../../upstream/mock/mock-reply";
import { convertChatRequest } from "./convert-chat-request";
import { chatFramesFromResponses, encodeChatFrames } from "./convert-responses-stream";

const model = "gpt-5.5";

async function turn(body: Record<string, unknown>): Promise<OpenAI.ChatCompletion> {
  const converted = convertChatRequest(body);
  const events = mockResponseEvents({ body: converted.request, reply: decideMockReply(converted.request), seed: "t", inputBytes: 100, createdAt: 1 });
  const frames = (await collect(chatFramesFromResponses(eventReaderOf([events.map((event) => eventFromPayload({ ...event, type: String(event.type) }))]), { model, includeUsage: true }))).flat();
  const fetch = async () => new Response(streamOf([encodeChatFrames(frames)]), { headers: { "content-type": "text/event-stream" } });
  const client = new OpenAI({ apiKey: "test", maxRetries: 0, fetch });
  return client.chat.completions.stream({ model, messages: [{ role: "user", content: "hi" }] }).finalChatCompletion();
}

const agents = [
  { agent: "opencode", tool: "bash", required: ["command", "description"] },
  { agent: "qwen-code", tool: "run_shell_command", required: ["command"] },
];

describe("a shell tool round trip with the mock", () => {
  for (const { agent, tool, required } of agents) {
    it(`${agent}: ${tool} is called with the command, then its output is answered`, async () => {
      const tools = [{ type: "function", function: { name: tool, description: "Run a shell command", parameters: { type: "object", properties: { command: { type: "string" }, description: { type: "string" } }, required } } }];
      const messages: Record<string, unknown>[] = [
        { role: "system", content: `You are ${agent}.` },
        { role: "user", content: "run echo hello-from-tool" },
      ];
      const first = await turn({ model, stream: true, tools, messages });
      const call = first.choices[0]!.message.tool_calls?.[0];
      expect(first.choices[0]!.finish_reason).toBe("tool_calls");
      if (call?.type !== "function") throw new Error("expected a function call");
      expect(call.function.name).toBe(tool);
      expect(JSON.parse(call.function.arguments)).toEqual({ command: "echo hello-from-tool", description: "Run echo hello-from-tool" });

      messages.push({ role: "assistant", content: null, tool_calls: [call] }, { role: "tool", tool_call_id: call.id, content: "hello-from-tool\n" });
      const second = await turn({ model, stream: true, tools, messages });
      expect(second.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: "The tool returned: hello-from-tool" } });
    });
  }
});
