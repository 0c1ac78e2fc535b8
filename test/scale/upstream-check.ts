// What the fake upstream saw: how many sockets each session opened (one expected), and for each
// turn whether it came chained (`previous_response_id`: a delta) — matched by the tag of the
// turn's newest user message, since a full send carries every earlier turn's message too.
import type { FakeUpstream } from "../support/fake-upstream";
import { lastTag, turnTag } from "./codex-conversation";
import type { TurnRecord } from "./turn-record";

export interface UpstreamCheck {
  /** WebSocket upgrades the fake was asked for over the run. */
  socketsOpened: number;
  /** Sessions whose requests came on more than one upstream socket, with how many. */
  sessionsOnSeveralSockets: Map<string, number>;
  /** Requests that reached the upstream over HTTP instead of a socket. */
  httpRequests: number;
  /** Later turns (turn ≥ 2) that succeeded, and those of them the upstream saw chained. */
  laterTurns: { http: number; httpChained: number; websocket: number; websocketChained: number };
  /** Later turns the upstream saw in full, or more than once (a resend), with what it saw. */
  unchained: string[];
}

export function checkUpstream(upstream: FakeUpstream, records: TurnRecord[]): UpstreamCheck {
  const socketsBySession = new Map<string, Set<number>>();
  const sentByTag = new Map<string, { chained: boolean; count: number }>();
  let httpRequests = 0;
  let socketsOpened = 0;
  for (const recorded of upstream.requests) {
    if (recorded.transport === "http") {
      if (recorded.method === "POST") httpRequests += 1;
      continue;
    }
    if (recorded.method === "GET") socketsOpened += 1;
    const session = recorded.headers["session-id"] ?? "(none)";
    if (!socketsBySession.has(session)) socketsBySession.set(session, new Set());
    socketsBySession.get(session)!.add(recorded.connectionId ?? -1);
    if (recorded.method !== "WS" || recorded.body?.type !== "response.create") continue;
    const tag = lastTag(recorded.body.input);
    if (!tag) continue;
    const seen = sentByTag.get(tag) ?? { chained: false, count: 0 };
    seen.count += 1;
    seen.chained = typeof recorded.body.previous_response_id === "string";
    sentByTag.set(tag, seen);
  }
  const sessionsOnSeveralSockets = new Map<string, number>();
  for (const [session, sockets] of socketsBySession) if (sockets.size > 1) sessionsOnSeveralSockets.set(session, sockets.size);
  const laterTurns = { http: 0, httpChained: 0, websocket: 0, websocketChained: 0 };
  const unchained: string[] = [];
  for (const record of records) {
    if (record.turn < 2 || record.error) continue;
    const tag = turnTag(record.session, record.turn);
    const seen = sentByTag.get(tag);
    const chained = seen?.chained === true && seen.count === 1;
    if (record.transport === "http") {
      laterTurns.http += 1;
      if (chained) laterTurns.httpChained += 1;
    } else {
      laterTurns.websocket += 1;
      if (chained) laterTurns.websocketChained += 1;
    }
    if (!chained) unchained.push(`${tag}: ${seen ? `sent ${seen.count}×, last ${seen.chained ? "chained" : "in full"}` : "never reached the upstream over a socket"}`);
  }
  return { socketsOpened, sessionsOnSeveralSockets, httpRequests, laterTurns, unchained };
}
