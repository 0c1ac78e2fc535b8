// What one turn's checks found, and the small helpers every protocol's checks share.

export interface Verdict {
  /** The turn did what a normal turn does: one completed response carrying its own reply. */
  success: boolean;
  hung: boolean;
  /** Not exactly one terminal event of the protocol, or events after it. */
  badTerminal?: string;
  /** A response, terminal or event of another turn (a foreign terminal). */
  foreign?: string;
  /** A 500 or `internal` error not caused by an upstream 500, or a shape that is not the protocol's. */
  gatewayError?: string;
  /** What the client saw, in a few words (for the report). */
  outcome: string;
}

export interface Expectation {
  /** The tag text the turn's reply carries (`#soak:…#`); absent for a warm-up. */
  tag: string | undefined;
  /** The upstream itself answered 500 on this turn: a 500 to the client is the upstream's. */
  upstream500: boolean;
}

/** The message the gateway gives an unexpected exception (errors/gateway-error.ts). */
const internalMessage = "The gateway failed to handle the request.";

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function snippet(text: string, length = 120): string {
  const flat = JSON.stringify(text);
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}

export function contains(value: unknown, tag: string): boolean {
  return JSON.stringify(value ?? null).includes(tag);
}

/** Names whose reply a foreign output is: the turn tags it carries, or a snippet of it. */
export function whoseReply(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  const tags = [...new Set([...text.matchAll(/#soak:([a-z0-9.]+)#/g)].map((match) => match[1]))];
  return tags.length > 0 ? `the reply of ${tags.join(", ")}` : `no turn's reply: ${snippet(text, 100)}`;
}

/** A 500 the upstream did not cause, or the gateway's own `internal` error. */
export function internalFailure(status: number | undefined, message: unknown, expectation: Expectation): string | undefined {
  if (message === internalMessage) return `internal error (${status ?? "in-band"}): ${internalMessage}`;
  if (status === 500 && !expectation.upstream500) return `HTTP 500 without an upstream 500: ${snippet(String(message ?? ""))}`;
  return undefined;
}

/** Joins the problems found; the first one names the verdict. */
export function firstOf(problems: (string | undefined)[]): string | undefined {
  const found = problems.filter((problem): problem is string => problem !== undefined);
  return found.length > 0 ? found.join("; ") : undefined;
}
