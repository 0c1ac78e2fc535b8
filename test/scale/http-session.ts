// One Codex-like session over HTTP: T turns in a row, each a POST with the whole history and a
// `session-id` header, read to its terminal event. A turn that fails ends the session (the next
// turn would build on an answer it never had); the turns left are counted as not run.
import { createParser } from "eventsource-parser";
import { request, type Dispatcher } from "undici";
import type { HttpConversation, Item } from "./codex-conversation";
import type { TurnRecord } from "./turn-record";

export interface HttpSessionContext {
  url: string;
  dispatcher: Dispatcher;
  turns: number;
  thinkMs: number;
  /** Send each turn on a pooled connection, as most HTTP clients do (default: a new connection per turn). */
  keepAlive: boolean;
  deadlineMs: number;
}

const terminalTypes = new Set(["response.completed", "response.failed", "response.incomplete"]);

export async function runHttpSession(conversation: HttpConversation, context: HttpSessionContext): Promise<TurnRecord[]> {
  const records: TurnRecord[] = [];
  for (let turn = 1; turn <= context.turns; turn += 1) {
    if (turn > 1 && context.thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, context.thinkMs));
    const record = await httpTurn(conversation, turn, context);
    records.push(record);
    if (record.error) break;
  }
  return records;
}

async function httpTurn(conversation: HttpConversation, turn: number, context: HttpSessionContext): Promise<TurnRecord> {
  const body = conversation.body(turn);
  const startedAt = performance.now();
  const record: TurnRecord = { transport: "http", session: conversation.name, turn, startedAt, durationMs: 0 };
  const signal = AbortSignal.timeout(context.deadlineMs);
  try {
    const response = await request(context.url, {
      method: "POST",
      headers: { ...conversation.headers, "content-type": "application/json" },
      body,
      dispatcher: context.dispatcher,
      // A new connection per turn unless asked: workerd drops a reused connection whose next
      // request it has not read within 5 s of the last response (docs/performance.md, "Scale").
      reset: !context.keepAlive,
      signal,
    });
    record.status = response.statusCode;
    record.turnKind = header(response.headers, "x-turnpike-turn");
    record.fullReason = header(response.headers, "x-turnpike-full-reason");
    record.chain = header(response.headers, "x-turnpike-chain");
    const contentType = header(response.headers, "content-type") ?? "";
    if (response.statusCode !== 200 || !contentType.includes("text/event-stream")) {
      const text = await response.body.text();
      record.error = `HTTP ${response.statusCode}: ${text.replace(/\s+/g, " ").slice(0, 1000)}`;
      return finished(record);
    }
    const outcome = await readStream(response.body);
    if (!outcome.terminal) record.error = "the stream ended without a terminal event";
    else if (outcome.terminal !== "response.completed") record.error = `${outcome.terminal}: ${outcome.failure ?? ""}`.trim();
    else conversation.answered(outcome.output);
  } catch (error) {
    record.error = signal.aborted ? `no terminal event within ${context.deadlineMs} ms` : `network: ${describe(error)} after ${Math.round(performance.now() - startedAt)} ms`;
  }
  return finished(record);
}

function finished(record: TurnRecord): TurnRecord {
  record.durationMs = performance.now() - record.startedAt;
  return record;
}

/** Only the events the run needs are parsed: the output items and the terminal event. */
async function readStream(body: AsyncIterable<Buffer>): Promise<{ terminal: string | undefined; failure: string | undefined; output: Item[] }> {
  const output: Item[] = [];
  let terminal: string | undefined;
  let failure: string | undefined;
  const parser = createParser({
    onEvent(event) {
      if (event.event === "response.output_item.done") output.push((JSON.parse(event.data) as { item: Item }).item);
      else if (event.event && terminalTypes.has(event.event)) {
        terminal ??= event.event;
        if (event.event !== "response.completed") failure = JSON.stringify((JSON.parse(event.data) as { response?: { error?: unknown } }).response?.error ?? null);
      } else if (event.event === "error") {
        terminal ??= "error";
        failure = event.data.slice(0, 200);
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return { terminal, failure, output };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = (error as { code?: unknown }).code;
  return `${error.message}${typeof code === "string" ? ` (${code})` : ""}${cause instanceof Error ? `: ${cause.message}` : ""}`;
}
