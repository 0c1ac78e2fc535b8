// Responses over HTTP: stateless requests (no session id), and HTTP sessions that resend their
// whole growing history every turn with a `session-id` header, as Codex CLI does over HTTP.
import { checkResponsesHttp } from "./check-responses";
import { clientAbortPoint } from "./fault-kinds";
import { soakSessionHeader } from "./fault-injector";
import { codexRequest, developerItem, pendingCall, reorderKeys, toolOutputItem, userItem, type Item } from "./client-requests";
import { postTurn, type HttpObservation } from "./http-turn";
import type { PlannedConversation } from "./plan";
import { Random } from "./prng";
import { ConversationRecorder, sleep, type SoakContext } from "./turn-record";
import { isRecord, parseJson } from "./verdict";

export async function runStatelessConversation(conversation: PlannedConversation, context: SoakContext): Promise<ConversationRecorder> {
  const recorder = new ConversationRecorder(conversation, context);
  const random = Random.named(context.seed, conversation.id);
  for (const turn of conversation.turns) {
    const body: Item = codexRequest(undefined, [developerItem(), userItem(turn.tag, random)], turn.stream);
    // A stateless client that chains itself: the provider no longer knows the response.
    if (turn.fault.kind === "previous-not-found") Object.assign(body, { previous_response_id: "resp_soak_forgotten", store: true });
    const injected = recorder.begin(turn);
    const abort = turn.fault.kind === "client-abort" ? clientAbortPoint(turn.fault) : undefined;
    const observation = await postTurn(`${context.gatewayUrl}/v1/responses`, body, headers(context, conversation, turn.tag), { deadlineMs: context.deadlineMs, abort });
    const verdict = checkResponsesHttp(observation, turn.stream, recorder.expectation(turn));
    recorder.finish(turn, injected, verdict, { clientLeft: observation.endedBy === "client-left", leftAt: observation.leftAt, requestId: observation.requestId, durationMs: observation.durationMs });
  }
  return recorder;
}

export async function runHttpSessionConversation(conversation: PlannedConversation, context: SoakContext): Promise<ConversationRecorder> {
  const recorder = new ConversationRecorder(conversation, context);
  const random = Random.named(context.seed, conversation.id);
  const sessionKey = `soak-${context.seed}-${conversation.id}`;
  const history: Item[] = [developerItem()];
  let callId: string | undefined;
  for (const turn of conversation.turns) {
    await sleep(turn.thinkMs);
    const newItems = [callId ? toolOutputItem(callId, turn.tag) : userItem(turn.tag, random)];
    const body = codexRequest(sessionKey, [...history, ...newItems], turn.stream);
    const injected = recorder.begin(turn);
    const abort = turn.fault.kind === "client-abort" ? clientAbortPoint(turn.fault) : undefined;
    const observation = await postTurn(`${context.gatewayUrl}/v1/responses`, body, { ...headers(context, conversation, turn.tag), "session-id": sessionKey }, {
      deadlineMs: context.deadlineMs,
      abort,
    });
    const verdict = checkResponsesHttp(observation, turn.stream, recorder.expectation(turn));
    recorder.finish(turn, injected, verdict, { clientLeft: observation.endedBy === "client-left", leftAt: observation.leftAt, requestId: observation.requestId, durationMs: observation.durationMs });
    history.push(...newItems);
    callId = undefined;
    if (verdict.success) {
      // Codex resends the previous output with the same values in another key order (protocol §3).
      const output = outputItems(observation);
      history.push(...(conversation.reorderOutputs ? (reorderKeys(output) as Item[]) : output));
      callId = pendingCall(output);
    }
  }
  return recorder;
}

export function headers(context: SoakContext, conversation: PlannedConversation, tag: string): Record<string, string> {
  return {
    authorization: `Bearer ${context.key}`,
    originator: "codex_exec",
    "x-client-request-id": tag,
    [soakSessionHeader]: conversation.id,
  };
}

/** The response's output items: `output_item.done` events, else the final response's output. */
export function outputItems(observation: HttpObservation): Item[] {
  if (observation.text !== undefined) {
    const body = parseJson(observation.text);
    return isRecord(body) && Array.isArray(body.output) ? (body.output as Item[]) : [];
  }
  const items: Item[] = [];
  for (const event of observation.events) {
    const data = parseJson(event.data);
    if (isRecord(data) && data.type === "response.output_item.done" && isRecord(data.item)) items.push(data.item);
  }
  return items;
}
