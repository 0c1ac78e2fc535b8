// Builds Codex-like request sequences: each HTTP turn resends the whole history, with the
// previous response's output items in a different key order (as Codex does, docs/protocol.md §3).
import { readFileSync } from "node:fs";
import { readSse } from "./read-sse";

/** A captured client request from test/fixtures/clients (see its README). */
export function capturedRequest(name: string): { headers: Record<string, string>; body: Record<string, unknown> } {
  const capture = JSON.parse(readFileSync(new URL(`../fixtures/clients/${name}`, import.meta.url), "utf8"));
  return { headers: capture.headers, body: capture.body };
}

/** The same item with its keys in reverse order: equal as a structure, different as text. */
export function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reorderKeys(item)]));
  }
  return value;
}

export function userMessage(text: string) {
  return { type: "message", role: "user", content: [{ type: "input_text", text }] };
}

export interface TurnResult {
  status: number;
  headers: Headers;
  events: { event?: string; data: string }[];
  /** The final response (from the terminal event). */
  response: { id: string; status: string; output: unknown[]; error?: { code: string; message: string } } | undefined;
  terminalType: string | undefined;
  /** Output items from `response.output_item.done` (the terminal output may be empty). */
  outputItems: unknown[];
  body?: unknown;
}

export async function postTurn(url: string, body: unknown, headers: Record<string, string>): Promise<TurnResult> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  if (!response.headers.get("content-type")?.includes("text/event-stream")) {
    return { status: response.status, headers: response.headers, events: [], response: undefined, terminalType: undefined, outputItems: [], body: await response.json() };
  }
  const events = await readSse(response);
  const terminal = events.filter((event) => ["response.completed", "response.failed", "response.incomplete"].includes(event.event ?? ""));
  const last = terminal.at(-1);
  const outputItems = events.filter((event) => event.event === "response.output_item.done").map((event) => JSON.parse(event.data).item);
  return {
    status: response.status,
    headers: response.headers,
    events,
    response: last ? JSON.parse(last.data).response : undefined,
    terminalType: last?.event,
    outputItems,
  };
}
