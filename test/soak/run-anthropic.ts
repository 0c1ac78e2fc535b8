// Anthropic Messages, as Claude Code sends them: the whole conversation every turn (tool results
// answering tool_use blocks), streamed or not, with or without `x-claude-code-session-id`.
import { checkAnthropicHttp } from "./check-anthropic";
import { clientAbortPoint } from "./fault-kinds";
import { soakSessionHeader } from "./fault-injector";
import { anthropicContentFromEvents, anthropicRequest, anthropicUserMessage, pendingToolUse, type AnthropicMessage, type Item } from "./client-requests";
import { postTurn, type HttpObservation } from "./http-turn";
import type { PlannedConversation } from "./plan";
import { Random } from "./prng";
import { ConversationRecorder, sleep, type SoakContext } from "./turn-record";
import { isRecord, parseJson } from "./verdict";

export async function runAnthropicConversation(conversation: PlannedConversation, context: SoakContext): Promise<ConversationRecorder> {
  const recorder = new ConversationRecorder(conversation, context);
  const random = Random.named(context.seed, conversation.id);
  const sessionKey = `soak-${context.seed}-${conversation.id}`;
  const messages: AnthropicMessage[] = [];
  let toolUseId: string | undefined;
  for (const turn of conversation.turns) {
    await sleep(turn.thinkMs);
    const message = anthropicUserMessage(turn.tag, toolUseId, random);
    const injected = recorder.begin(turn);
    const abort = turn.fault.kind === "client-abort" ? clientAbortPoint(turn.fault) : undefined;
    const headers: Record<string, string> = {
      "x-api-key": context.key,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "claude-code-20250219",
      [soakSessionHeader]: conversation.id,
      ...(conversation.session ? { "x-claude-code-session-id": sessionKey } : {}),
    };
    const observation = await postTurn(`${context.gatewayUrl}/v1/messages?beta=true`, anthropicRequest([...messages, message], turn.stream), headers, {
      deadlineMs: context.deadlineMs,
      abort,
    });
    const verdict = checkAnthropicHttp(observation, turn.stream, recorder.expectation(turn));
    recorder.finish(turn, injected, verdict, { clientLeft: observation.endedBy === "client-left", leftAt: observation.leftAt, requestId: observation.requestId, durationMs: observation.durationMs });
    messages.push(message);
    toolUseId = undefined;
    if (verdict.success) {
      const content = assistantContent(observation);
      messages.push({ role: "assistant", content });
      toolUseId = pendingToolUse(content);
    }
  }
  return recorder;
}

function assistantContent(observation: HttpObservation): Item[] {
  if (observation.text === undefined) return anthropicContentFromEvents(observation.events);
  const body = parseJson(observation.text);
  const content = isRecord(body) && Array.isArray(body.content) ? (body.content as Item[]) : [];
  return content.filter((block) => block.type === "text" || block.type === "tool_use");
}
