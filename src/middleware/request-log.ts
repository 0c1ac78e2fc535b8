/**
 * One structured JSON log line per request: what happened, how long it took, what it cost.
 * No bodies, no headers, no secrets. For streams the line is written when the stream ends,
 * so that it carries the terminal event, time to first byte and token usage.
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../gateway-env";
import { waitUntilOf } from "./gateway-auth";
import { isRecord } from "../streams/responses-event";
import { newStreamOutcome, type StreamOutcome } from "../streams/supervise-responses-events";

export class RequestLog {
  readonly requestId: string;
  readonly startedAt = Date.now();
  readonly outcome: StreamOutcome = newStreamOutcome();
  route = "";
  model: string | undefined;
  status: number | undefined;
  upstreamStatus: number | undefined;
  errorKind: string | undefined;
  /** Extra fields later layers add (session mode, account…). */
  readonly extra: Record<string, string | number | boolean | undefined> = {};
  #streaming = false;
  #written = false;

  /** `keepAlive`: the request's `waitUntil`, which keeps its context alive for the line written after its stream. */
  constructor(requestId?: string, private readonly keepAlive?: (promise: Promise<unknown>) => void) {
    this.requestId = requestId ?? crypto.randomUUID();
  }

  /** Another component (the session Durable Object) writes this request's line. */
  delegate(): void {
    this.#written = true;
  }

  /** The response is a stream: write the line when it settles, not when the handler returns. */
  deferToStreamEnd(): void {
    this.#streaming = true;
  }

  get streaming(): boolean {
    return this.#streaming;
  }

  /**
   * The response stream ended: write the line if it was deferred to this point. It is written
   * just after (a timer), once the terminal event being handed on has gone out: the client's last
   * bytes waited for the line and its accounting (the usage row, the key's gate), ~0.4 ms of a
   * session turn (docs/performance.md).
   */
  streamSettled(): void {
    if (!this.#streaming) return;
    const written = new Promise<void>((resolve) => {
      setTimeout(() => {
        try {
          this.write();
        } finally {
          resolve();
        }
      }, 0);
    });
    this.keepAlive?.(written);
  }

  /** Called with the line once it is written: the request is over (usage, limits). */
  onWritten(listener: (line: LogLine) => void): void {
    this.#listeners.push(listener);
  }

  write(): void {
    if (this.#written) return;
    this.#written = true;
    const outcome = this.outcome;
    const response = isRecord(outcome.terminalPayload) ? outcome.terminalPayload.response : undefined;
    const usage = isRecord(response) && isRecord(response.usage) ? response.usage : undefined;
    const line: LogLine = {
      level: "info",
      request_id: this.requestId,
      route: clipped(this.route),
      model: clipped(this.model),
      status: this.status,
      upstream_status: this.upstreamStatus,
      ttfb_ms: outcome.firstEventAt === undefined ? undefined : outcome.firstEventAt - this.startedAt,
      duration_ms: Date.now() - this.startedAt,
      terminal: outcome.terminalType,
      error: this.errorKind ?? outcome.failure?.kind,
      input_tokens: count(usage?.input_tokens),
      cached_tokens: count(isRecord(usage?.input_tokens_details) ? usage.input_tokens_details.cached_tokens : undefined),
      output_tokens: count(usage?.output_tokens),
      reasoning_tokens: count(isRecord(usage?.output_tokens_details) ? usage.output_tokens_details.reasoning_tokens : undefined),
      ...this.extra,
    };
    if (typeof line.upstream_model === "string") line.upstream_model = clipped(line.upstream_model);
    console.log(JSON.stringify(line));
    for (const listener of this.#listeners) {
      try {
        listener(line);
      } catch (error) {
        console.error(JSON.stringify({ level: "warn", request_id: this.requestId, message: "a request's accounting failed", error: String(error) }));
      }
    }
  }

  readonly #listeners: ((line: LogLine) => void)[] = [];
}

/** One request's log line. */
export interface LogLine {
  level: "info";
  request_id: string;
  route: string;
  model: string | undefined;
  status: number | undefined;
  upstream_status: number | undefined;
  ttfb_ms: number | undefined;
  duration_ms: number;
  terminal: string | undefined;
  error: string | undefined;
  input_tokens: number | undefined;
  cached_tokens: number | undefined;
  output_tokens: number | undefined;
  reasoning_tokens: number | undefined;
  [extra: string]: string | number | boolean | undefined;
}

/**
 * What a client names (its model, its path) is logged and kept in usage rows up to this many
 * characters: a request cannot make a log line or a usage batch (one D1 parameter, 2 MB at most)
 * as large as it likes.
 */
const maxNamedCharacters = 256;

function clipped<Text extends string | undefined>(text: Text): Text {
  return (text !== undefined && text.length > maxNamedCharacters ? `${text.slice(0, maxNamedCharacters)}…` : text) as Text;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function requestLog(): MiddlewareHandler<GatewayEnv> {
  return async function requestLogMiddleware(context, next) {
    // Without an execution context (a test calling the app directly) the timer runs anyway.
    const log = new RequestLog(undefined, waitUntilOf(context));
    // The path as the router saw it (parsing the whole URL again measured ~2% of a turn's JavaScript).
    log.route = `${context.req.method} ${context.req.path}`;
    context.set("log", log);
    await next();
    context.header("x-turnpike-request-id", log.requestId);
    log.status = context.res.status;
    if (!log.streaming) log.write();
  };
}
