// The conversations of the scale run, built from real Codex captures (test/fixtures/clients):
// over HTTP the captured first turn, then each turn the whole history again with the previous
// output (its keys in another order, as Codex resends them) and a new user message; over the
// Responses WebSocket mode a `response.create` with the same fields, then turns chained with
// `previous_response_id` carrying only the new message. Every user message carries a tag
// (`scale:<session>:t<turn>`) by which the fake upstream's records are matched to turns.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { reorderKeys, userMessage } from "../support/codex-like";

export type Item = Record<string, unknown>;

/** The ids the captures were neutralised to (test/fixtures/clients/README.md). */
const capturedHttpSession = "00000000-0000-4000-8000-000000000001";
const capturedSocketSession = "00000000-0000-4000-8000-000000000022";

/** Headers the client library sets itself, or that name the captured gateway and key. */
const droppedHeaders = new Set(["host", "content-length", "authorization", "connection", "upgrade"]);

export interface CodexCaptures {
  httpHeaders: Record<string, string>;
  /** The first turn's body as text, with the captured session id still in it. */
  httpBodyText: string;
  socketHeaders: Record<string, string>;
}

export function loadCaptures(projectRoot: string): CodexCaptures {
  const read = (name: string) => JSON.parse(readFileSync(join(projectRoot, "test", "fixtures", "clients", name), "utf8"));
  const turn = read("codex-http-turn1-request.json");
  const handshake = read("codex-ws-handshake.json");
  return {
    httpHeaders: keptHeaders(turn.headers),
    httpBodyText: JSON.stringify(turn.body),
    socketHeaders: keptHeaders(handshake.headers),
  };
}

function keptHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !droppedHeaders.has(name) && !name.startsWith("sec-websocket-")));
}

function withSession(headers: Record<string, string>, captured: string, sessionId: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replaceAll(captured, sessionId)]));
}

export function turnTag(sessionName: string, turn: number): string {
  return `scale:${sessionName}:t${turn}`;
}

/** The newest tag in a request's input (a full send carries every earlier turn's too). */
export function lastTag(input: unknown): string | undefined {
  const tags = JSON.stringify(input ?? null).match(/scale:[a-z]+-\d+:t\d+/g);
  return tags?.at(-1);
}

function taggedMessage(sessionName: string, turn: number): Item {
  return userMessage(`${turnTag(sessionName, turn)} now run the tests and fix what fails`);
}

/** A Codex session over HTTP: its headers, and the body of each turn given the turns before. */
export class HttpConversation {
  readonly headers: Record<string, string>;
  readonly #fields: Item;
  #history: Item[];

  constructor(
    readonly name: string,
    sessionId: string,
    captures: CodexCaptures,
    gatewayKey: string,
  ) {
    this.headers = { ...withSession(captures.httpHeaders, capturedHttpSession, sessionId), authorization: `Bearer ${gatewayKey}` };
    const body = JSON.parse(captures.httpBodyText.replaceAll(capturedHttpSession, sessionId)) as Item;
    const { input, ...fields } = body;
    this.#fields = fields;
    this.#history = [...(input as Item[])];
  }

  /** The body of turn `turn` (1-based): the whole history so far and the turn's new message. */
  body(turn: number): string {
    this.#history.push(taggedMessage(this.name, turn));
    return JSON.stringify({ ...this.#fields, input: this.#history });
  }

  /** What the turn answered, resent next turn with its keys in another order (Codex's serde). */
  answered(output: Item[]): void {
    this.#history.push(...(reorderKeys(output) as Item[]));
  }
}

/** A Codex session over the Responses WebSocket mode. */
export class SocketConversation {
  readonly headers: Record<string, string>;
  readonly #fields: Item;
  readonly #input: Item[];

  constructor(
    readonly name: string,
    sessionId: string,
    captures: CodexCaptures,
    gatewayKey: string,
  ) {
    this.headers = { ...withSession(captures.socketHeaders, capturedSocketSession, sessionId), authorization: `Bearer ${gatewayKey}` };
    const body = JSON.parse(captures.httpBodyText.replaceAll(capturedHttpSession, sessionId)) as Item;
    const { input, ...fields } = body;
    this.#fields = fields;
    this.#input = input as Item[];
  }

  /** Turn 1: the whole input; later turns: chained on the last response, only the new message. */
  frame(turn: number, previousResponseId: string | undefined): string {
    const message = taggedMessage(this.name, turn);
    const chained = previousResponseId ? { previous_response_id: previousResponseId, input: [message] } : { input: [...this.#input, message] };
    return JSON.stringify({ type: "response.create", ...this.#fields, ...chained });
  }
}
