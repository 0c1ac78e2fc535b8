/**
 * The one error type of the gateway. Thrown anywhere, rendered once per inbound protocol
 * (see `render-openai-error.ts`), so that every failure reaches the client in its own shape.
 */

/** Closed set of failure kinds; each has a default HTTP status. */
export type GatewayErrorKind =
  | "invalid_request"
  | "authentication"
  | "permission"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "configuration"
  /** A part of the gateway itself (a session object) could not be reached: retry shortly. */
  | "service_unavailable"
  | "upstream_error"
  | "upstream_unreachable"
  | "upstream_disconnected"
  | "upstream_idle_timeout"
  | "internal";

const defaultStatus: Record<GatewayErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  configuration: 500,
  service_unavailable: 503,
  upstream_error: 502,
  upstream_unreachable: 502,
  upstream_disconnected: 502,
  upstream_idle_timeout: 504,
  internal: 500,
};

export interface GatewayErrorOptions {
  status?: number;
  /** Machine-readable code, e.g. `rate_limit_exceeded`; kept from the upstream when it gave one. */
  code?: string | null;
  /** OpenAI error `type`, e.g. `invalid_request_error`; kept from the upstream when it gave one. */
  type?: string;
  param?: string | null;
  /** Whether retrying the same request may succeed (drives failover and client hints). */
  retryable?: boolean;
  /** The upstream's HTTP status, for logs. */
  upstreamStatus?: number;
  /** Response headers worth passing back (Retry-After, rate-limit headers). Never secrets. */
  headers?: Headers;
  /** What the operator needs to know (which account, what the upstream said), for the log only: never sent to a client. */
  detail?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly status: number;
  readonly code: string | null;
  readonly type: string | undefined;
  readonly param: string | null;
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;
  readonly headers: Headers;
  readonly detail: string | undefined;

  constructor(kind: GatewayErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "GatewayError";
    this.kind = kind;
    this.status = options.status ?? defaultStatus[kind];
    this.code = options.code ?? null;
    this.type = options.type;
    this.param = options.param ?? null;
    this.retryable = options.retryable ?? (this.status >= 500 || this.status === 429);
    this.upstreamStatus = options.upstreamStatus;
    this.headers = options.headers ?? new Headers();
    this.detail = options.detail;
  }
}

/**
 * The message a client may read. A configuration problem names variables, secrets and accounts:
 * the operator's business, told in the log (and `/health?verbose`), never to a caller.
 */
export function publicMessage(error: GatewayError): string {
  return error.kind === "configuration" ? "The gateway is misconfigured; its operator can read why in the log." : error.message;
}

/** Anything thrown, as a GatewayError; unknown errors become `internal` without leaking their text. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError("internal", "The gateway failed to handle the request.", { cause: error });
}
