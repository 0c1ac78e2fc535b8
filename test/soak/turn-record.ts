// Turns a turn's verdict into the record the report counts: which fault it is charged to, whether
// it shows a poisoned session, and what the client and the upstream saw.
import { upstreamSays500, type TurnKind, type Path } from "./fault-kinds";
import { tagText, type InjectedTurnRecord, type SoakInjector } from "./fault-injector";
import type { PlannedConversation, PlannedTurn } from "./plan";
import type { Expectation, Verdict } from "./verdict";

export interface SoakContext {
  gatewayUrl: string;
  key: string;
  seed: number;
  injector: SoakInjector;
  deadlineMs: number;
}

export interface TurnRecord {
  conversationId: string;
  path: Path;
  session: boolean;
  turn: PlannedTurn;
  /** The fault kind the turn's findings are charged to: its own, else the session's last fired one. */
  attributedTo: TurnKind;
  verdict: Verdict;
  /** A normal turn that failed after a fault earlier in its session. */
  poisoned: boolean;
  /** The gateway's request id (HTTP), to find the Worker's log lines. */
  requestId: string | undefined;
  /** What the fake upstream did for the turn: `fired` can still turn true after the turn (a leftover). */
  injected: InjectedTurnRecord;
  clientLeft: boolean;
  /** When the client left on purpose (the upstream should be let go of at once). */
  leftAt: number | undefined;
  durationMs: number;
}

/**
 * Whether the turn's fault happened: it reached the upstream's answer (a client-abort: the
 * upstream had the request and the client left; leaving a turn that never got there, e.g. one
 * stuck in the gateway, disturbs nothing new).
 */
export function faultFired(record: Pick<TurnRecord, "turn" | "injected" | "clientLeft">): boolean {
  const kind = record.turn.fault.kind;
  return kind !== "none" && record.injected.fired && (kind !== "client-abort" || record.clientLeft);
}

/** One conversation's turns, in order, and the session state the checks need. */
export class ConversationRecorder {
  readonly records: TurnRecord[] = [];

  constructor(
    readonly conversation: PlannedConversation,
    readonly context: SoakContext,
  ) {}

  /** Tells the fake upstream about the turn before it is sent. */
  begin(turn: PlannedTurn): InjectedTurnRecord {
    return this.context.injector.register({ tag: turn.tag, conversationId: this.conversation.id, reply: turn.reply, fault: turn.fault, paceMs: turn.paceMs });
  }

  expectation(turn: PlannedTurn): Expectation {
    return { tag: turn.warmUp ? undefined : tagText(turn.tag), upstream500: upstreamSays500(turn.fault) };
  }

  /** Records the finished turn; `clientLeft`: the client left on purpose before the end. */
  finish(turn: PlannedTurn, injected: InjectedTurnRecord, checked: Verdict, details: { clientLeft: boolean; leftAt?: number | undefined; requestId?: string | undefined; durationMs: number }): TurnRecord {
    this.context.injector.finish(injected);
    let verdict = checked;
    if (details.clientLeft) {
      // Nothing is owed to a client that left: only what it saw before leaving is judged.
      const { badTerminal: _badTerminal, foreign: _foreign, ...kept } = checked;
      verdict = { ...kept, success: false, outcome: `client left (${checked.outcome})` };
    }
    const kind = turn.fault.kind;
    // A fault that never reached the upstream disturbed nothing: the turn is judged as a normal
    // one, and must succeed (unless its client left: nothing is owed then).
    const fired = faultFired({ turn, injected, clientLeft: details.clientLeft });
    const normal = !fired && !details.clientLeft;
    const lastFault = this.#lastFault();
    const failed = normal && !verdict.success;
    // A client WebSocket without a session id still has a session object, for the socket's life.
    const stateful = this.conversation.session || this.conversation.path === "client-websocket";
    const poisoned = failed && stateful && lastFault !== undefined;
    if (failed && !poisoned && !verdict.gatewayError && !verdict.badTerminal && !verdict.foreign && !verdict.hung) {
      verdict = { ...verdict, gatewayError: `a normal turn failed: ${verdict.outcome}` };
    }
    const record: TurnRecord = {
      conversationId: this.conversation.id,
      path: this.conversation.path,
      session: this.conversation.session,
      turn,
      attributedTo: fired ? kind : (lastFault ?? kind),
      verdict,
      poisoned,
      requestId: details.requestId,
      injected,
      clientLeft: details.clientLeft,
      leftAt: details.leftAt,
      durationMs: details.durationMs,
    };
    this.records.push(record);
    return record;
  }

  /** The session's last fault that happened, looked up now: a leftover fires during the next turn. */
  #lastFault(): TurnKind | undefined {
    for (let index = this.records.length - 1; index >= 0; index -= 1) {
      const record = this.records[index]!;
      if (faultFired(record)) return record.turn.fault.kind;
    }
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
