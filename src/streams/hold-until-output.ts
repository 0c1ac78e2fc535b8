/**
 * Holds a response's opening events (`response.created`, `response.in_progress`, metadata)
 * back until its first output event, so that a failure before any output can still be retried
 * — on a new connection, with the full input — without the client seeing two responses.
 * The wait is short: providers send the first output item right after `response.created`;
 * if they do not within `maxHoldMs`, the response is released as it is, so that an HTTP client
 * gets its headers and keepalives before an edge proxy gives up on it (Cloudflare: 100 s).
 */
import { GatewayError } from "../errors/gateway-error";
import { errorFromErrorEvent } from "./supervise-responses-events";
import { eventPayload, isRecord, type ResponsesEvent } from "./responses-event";
import type { EventBatch, EventReader } from "./event-reader";
import { IdleWatch } from "./idle-watch";

const openingEventTypes = new Set(["response.created", "response.in_progress", "response.queued", "response.metadata", "codex.rate_limits"]);

export type HeldResponse =
  | { kind: "released"; events: EventReader }
  /** Nothing reached the client: `error` is what the upstream said (or the connection loss). */
  | { kind: "failed"; error: GatewayError; code: string | undefined };

export interface HoldOptions {
  maxHoldMs?: number;
  /** The client went away: the response is cancelled (and the upstream let go) at once. */
  signal?: AbortSignal | undefined;
}

export async function holdUntilOutput(reader: EventReader, idleTimeoutMs: number, options: HoldOptions = {}): Promise<HeldResponse> {
  const held: EventBatch = [];
  const idle = new IdleWatch(idleTimeoutMs);
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  const holdExpired = new Promise<"hold">((resolve) => (holdTimer = setTimeout(() => resolve("hold"), options.maxHoldMs ?? 10_000)));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await readUntilOutput(reader, held, idle, holdExpired, aborted);
  } finally {
    idle.stop();
    if (holdTimer !== undefined) clearTimeout(holdTimer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

/** What a hold ended with when the client left: nothing to retry, nothing to report to anyone. */
export function clientGone(): GatewayError {
  return new GatewayError("upstream_disconnected", "The client went away before the response started.", { code: "client_disconnected", retryable: false });
}

async function readUntilOutput(
  reader: EventReader,
  held: EventBatch,
  idle: IdleWatch,
  holdExpired: Promise<"hold">,
  aborted: Promise<"aborted">,
): Promise<HeldResponse> {
  // A pending read survives a hold expiry: the released stream continues from it.
  let pending = reader.read();
  for (;;) {
    let result: ReadableStreamReadResult<EventBatch> | "idle" | "hold" | "aborted";
    try {
      result = await Promise.race([pending, idle.expired, aborted, ...(held.length > 0 ? [holdExpired] : [])]);
    } catch (cause) {
      const error = cause instanceof GatewayError ? cause : new GatewayError("upstream_disconnected", "The upstream connection broke.", { cause });
      return { kind: "failed", error, code: undefined };
    }
    if (result === "hold") return { kind: "released", events: prepend(held, reader, pending) };
    if (result === "aborted") {
      reader.cancel("client gone").catch(() => {});
      pending.catch(() => {});
      return { kind: "failed", error: clientGone(), code: "client_disconnected" };
    }
    if (result === "idle") {
      reader.cancel("idle").catch(() => {});
      const seconds = Math.round(idle.limitMs / 1000);
      return { kind: "failed", error: new GatewayError("upstream_idle_timeout", `The upstream sent nothing for ${seconds} s.`), code: undefined };
    }
    // The next read starts at once: a new wait on the upstream.
    idle.waiting();
    pending = reader.read();
    if (result.done) {
      return { kind: "failed", error: new GatewayError("upstream_disconnected", "The upstream closed before the response started."), code: undefined };
    }
    for (const [index, event] of result.value.entries()) {
      if (openingEventTypes.has(event.type)) {
        held.push(event);
        continue;
      }
      const failure = failureBeforeOutput(event);
      if (failure) {
        reader.cancel("failed before output").catch(() => {});
        return { kind: "failed", ...failure };
      }
      held.push(...result.value.slice(index));
      return { kind: "released", events: prepend(held, reader, pending) };
    }
  }
}

function failureBeforeOutput(event: ResponsesEvent): { error: GatewayError; code: string | undefined } | undefined {
  if (event.type === "error") {
    const error = errorFromErrorEvent(eventPayload(event));
    return { error, code: error.code ?? undefined };
  }
  if (event.type === "response.failed") {
    const response = eventPayload(event).response;
    const details = isRecord(response) && isRecord(response.error) ? response.error : {};
    const error = errorFromErrorEvent({ error: details });
    return { error, code: error.code ?? undefined };
  }
  return undefined;
}

/** The held events first, then the rest of the source (starting with the read in progress). */
function prepend(first: EventBatch, reader: EventReader, pending: Promise<ReadableStreamReadResult<EventBatch>>): EventReader {
  let held: EventBatch | undefined = first;
  let next: Promise<ReadableStreamReadResult<EventBatch>> | undefined = pending;
  return {
    async read() {
      if (held) {
        const value = held;
        held = undefined;
        return { done: false, value };
      }
      const result = next ?? reader.read();
      next = undefined;
      return result;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}
