// The session turns the CPU and instruction-count benches drive: a growing Codex-like session
// over HTTP (the whole history again every turn, a delta upstream) and Codex's default over a
// client WebSocket (turns chained on the last response, only the new message).
import { postTurn, reorderKeys, userMessage } from "../support/codex-like";
import type { ResponsesSocketClient } from "../support/ws-client";
import type { SocketConversation } from "../scale/codex-conversation";

export type TurnResult = Awaited<ReturnType<typeof postTurn>>;

/** One turn of a growing Codex-like session per call: the whole history again, a new message. */
export function codexSessionTurns(url: string, codex: Record<string, unknown>, sessionId: string, onTurn: (result: TurnResult) => void = () => {}) {
  let history: unknown[] = [...(codex.input as unknown[])];
  let session = 0;
  return async (index: number) => {
    history.push(userMessage(`step ${index}`));
    const result = await postTurn(url, { ...codex, input: history, stream: true }, { "session-id": `${sessionId}-${session}` });
    onTurn(result);
    history = [...history, ...result.outputItems.map(reorderKeys)];
    // Bounded, so the body stays Codex-sized: a new session every 40 turns.
    if (history.length > 200) {
      history = [...(codex.input as unknown[])];
      session += 1;
    }
  };
}

/** One `response.create` per call on one client socket, chained on the response before. */
export function socketSessionTurns(client: ResponsesSocketClient, conversation: SocketConversation) {
  let previousResponseId: string | undefined;
  let turn = 0;
  return async () => {
    turn += 1;
    const terminal = (await client.create(JSON.parse(conversation.frame(turn, previousResponseId)))).at(-1)!;
    if (terminal.type !== "response.completed") throw new Error(`socket turn ${turn}: ${JSON.stringify(terminal).slice(0, 300)}`);
    previousResponseId = (terminal.response as { id: string }).id;
  };
}
