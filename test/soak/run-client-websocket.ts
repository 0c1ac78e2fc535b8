// Responses WebSocket mode towards the gateway, as Codex with `supports_websockets` uses it: an
// optional `generate: false` warm-up, then each turn as `previous_response_id` + only the new
// items; after a failure a full create; after leaving mid-turn, a new socket and a full create.
import { checkResponsesSocket } from "./check-responses";
import { clientAbortPoint } from "./fault-kinds";
import { soakSessionHeader, type InjectedTurnRecord } from "./fault-injector";
import { codexRequest, developerItem, pendingCall, toolOutputItem, userItem, type Item } from "./client-requests";
import type { PlannedConversation, PlannedTurn } from "./plan";
import { Random } from "./prng";
import { SoakSocket, type Frame, type SocketObservation } from "./socket-turn";
import { ConversationRecorder, sleep, type SoakContext } from "./turn-record";
import type { Expectation } from "./verdict";
import { isRecord } from "./verdict";

interface SentTurn {
  turn: PlannedTurn;
  injected: InjectedTurnRecord;
  newItems: Item[];
  observation: SocketObservation;
  expectation: Expectation;
}

export async function runClientWebSocketConversation(conversation: PlannedConversation, context: SoakContext): Promise<ConversationRecorder> {
  const recorder = new ConversationRecorder(conversation, context);
  const random = Random.named(context.seed, conversation.id);
  const sessionKey = conversation.session ? `soak-${context.seed}-${conversation.id}` : undefined;
  const url = `${context.gatewayUrl.replace(/^http/, "ws")}/v1/responses`;
  const history: Item[] = [developerItem()];
  let socket: SoakSocket | undefined;
  let connections = 0;
  /** The response to chain from on this socket; none after a failure or on a new socket. */
  let chainFrom: string | undefined;
  let callId: string | undefined;
  let sent: SentTurn | undefined;

  // A turn is judged once the next one is about to start: frames in between are its extras.
  const settle = () => {
    if (!sent) return;
    const after = socket?.takeStray() ?? [];
    const verdict = checkResponsesSocket(sent.observation, after, sent.expectation);
    const clientLeft = sent.observation.endedBy === "client-left";
    recorder.finish(sent.turn, sent.injected, verdict, { clientLeft, leftAt: sent.observation.leftAt, durationMs: sent.observation.durationMs });
    history.push(...sent.newItems);
    callId = undefined;
    chainFrom = undefined;
    if (verdict.success) {
      const output = outputItems(sent.observation.frames);
      history.push(...output);
      chainFrom = responseId(sent.observation.frames);
      callId = pendingCall(output);
    }
    sent = undefined;
  };

  for (const turn of conversation.turns) {
    await sleep(turn.thinkMs);
    settle();
    const injected = recorder.begin(turn);
    if (!socket?.isOpen) {
      // A refusal planned for this turn meets the gateway's upstream opening at the client's upgrade.
      if (turn.fault.kind === "refuse-upgrade") context.injector.armUpgradeRefusal(injected);
      connections += 1;
      const headers: Record<string, string> = {
        authorization: `Bearer ${context.key}`,
        "openai-beta": "responses_websockets=2026-02-06",
        originator: "codex_exec",
        "x-client-request-id": `${conversation.id}.ws${connections}`,
        [soakSessionHeader]: conversation.id,
        ...(sessionKey ? { "session-id": sessionKey } : {}),
      };
      const opened = await SoakSocket.connect(url, headers, context.deadlineMs);
      if (!(opened instanceof SoakSocket)) {
        const verdict = { success: false, hung: false, gatewayError: `the gateway refused the client's upgrade: ${opened.refused}`, outcome: "upgrade refused" };
        recorder.finish(turn, injected, verdict, { clientLeft: false, durationMs: 0 });
        socket = undefined;
        continue;
      }
      socket = opened;
      chainFrom = undefined;
    }
    const newItems = turn.warmUp ? [] : [callId ? toolOutputItem(callId, turn.tag) : userItem(turn.tag, random)];
    const fields = codexRequest(sessionKey, chainFrom ? newItems : [...history, ...newItems], true);
    const frame = { type: "response.create", ...fields, ...(chainFrom ? { previous_response_id: chainFrom } : {}), ...(turn.warmUp ? { generate: false } : {}) };
    const abort = turn.fault.kind === "client-abort" ? clientAbortPoint(turn.fault) : undefined;
    const observation = await socket.turn(frame, { deadlineMs: context.deadlineMs, abort });
    sent = { turn, injected, newItems, observation, expectation: recorder.expectation(turn) };
  }
  await sleep(60);
  settle();
  socket?.close();
  return recorder;
}

function outputItems(frames: Frame[]): Item[] {
  const items = frames.flatMap((frame) => (frame.type === "response.output_item.done" && isRecord(frame.json?.item) ? [frame.json.item] : []));
  if (items.length > 0) return items;
  const terminal = frames.find((frame) => frame.type === "response.completed")?.json?.response;
  return isRecord(terminal) && Array.isArray(terminal.output) ? (terminal.output as Item[]) : [];
}

function responseId(frames: Frame[]): string | undefined {
  const terminal = frames.find((frame) => frame.type === "response.completed")?.json?.response;
  return isRecord(terminal) && typeof terminal.id === "string" ? terminal.id : undefined;
}
