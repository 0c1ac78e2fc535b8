/**
 * An upstream's non-2xx answer → GatewayError with the same status and an OpenAI-shaped body.
 * Handles OpenAI `{"error": {...}}`, bare `{"error": "..."}`, FastAPI `{"detail": ...}` (the
 * ChatGPT backend, docs/protocol.md §1) and non-JSON bodies; turns the ChatGPT backend's
 * `resets_in_seconds` / `resets_at` into a `Retry-After` when the header is missing.
 */
import { GatewayError } from "../errors/gateway-error";
import { redact } from "../shared/redact";
import { isRecord } from "../streams/responses-event";
import { pickReturnedResponseHeaders } from "./upstream-headers";

const maxErrorBodyBytes = 64 * 1024;
/**
 * Longest wait for an error answer's body. The status is known already; a body that stalls must
 * not hold the turn (and in a session, the connection's opening) past this.
 */
const errorBodyWaitMs = 5_000;

export async function errorFromUpstreamResponse(response: Response, secrets: readonly string[]): Promise<GatewayError> {
  const text = await readBounded(response);
  const headers = pickReturnedResponseHeaders(response.headers);
  const fields = errorFields(text, response.status);
  if (response.status === 429 && !headers.has("retry-after")) {
    const seconds = fields.resetsInSeconds;
    if (seconds !== undefined && seconds > 0) headers.set("retry-after", String(Math.ceil(seconds)));
  }
  const message = redact(fields.message ?? defaultMessage(response.status), secrets);
  if (response.status === 401 || response.status === 403) {
    // The upstream refused the gateway's own credential. Passed through, it would read as the
    // client's key being wrong (`invalid_api_key`) and could carry the provider's masked form of
    // the upstream key: the client hears that the gateway's upstream failed, the operator's log
    // gets what the provider said.
    return new GatewayError("upstream_error", `The gateway's upstream credential was refused (HTTP ${response.status}); the operator must renew it.`, {
      status: 502,
      upstreamStatus: response.status,
      code: "upstream_authentication_failed",
      detail: message,
    });
  }
  return new GatewayError(response.status === 429 ? "rate_limited" : "upstream_error", message, {
    status: response.status,
    upstreamStatus: response.status,
    code: fields.code ?? null,
    type: fields.type,
    param: fields.param ?? null,
    headers,
  });
}

interface ErrorFields {
  message?: string;
  type?: string;
  code?: string;
  param?: string;
  resetsInSeconds?: number;
}

function errorFields(text: string, status: number): ErrorFields {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
    return { message: snippet ? `${defaultMessage(status)}: ${snippet}` : undefined };
  }
  if (!isRecord(body)) return {};
  if (isRecord(body.error)) {
    const error = body.error;
    return {
      message: stringOrUndefined(error.message),
      type: stringOrUndefined(error.type),
      // The ChatGPT backend puts the reason in `type` (usage_limit_reached) and no code.
      code: stringOrUndefined(error.code) ?? stringOrUndefined(error.type),
      param: stringOrUndefined(error.param),
      resetsInSeconds: resetsInSeconds(error),
    };
  }
  if (typeof body.error === "string") return { message: body.error };
  if (body.detail !== undefined) return { message: detailMessage(body.detail), type: status < 500 ? "invalid_request_error" : "server_error" };
  return { message: stringOrUndefined(body.message) };
}

/** FastAPI details are a string, or a list of `{loc, msg}` validation errors. */
function detailMessage(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((entry) => (isRecord(entry) && typeof entry.msg === "string" ? entry.msg : JSON.stringify(entry)))
      .join("; ");
  }
  return JSON.stringify(detail);
}

function resetsInSeconds(error: Record<string, unknown>): number | undefined {
  if (typeof error.resets_in_seconds === "number") return error.resets_in_seconds;
  if (typeof error.resets_at === "number") return error.resets_at - Date.now() / 1000;
  return undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

function defaultMessage(status: number): string {
  return `The upstream answered HTTP ${status}`;
}


async function readBounded(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), errorBodyWaitMs)));
  try {
    for (;;) {
      const read = await Promise.race([reader.read(), late]);
      if (read === "late") break;
      const { done, value } = read;
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
      if (bytes >= maxErrorBodyBytes) break;
    }
  } catch {
    // A broken error body still yields the status and whatever arrived.
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  return text + decoder.decode();
}

/** In-stream failure codes → the HTTP status a non-streaming client gets. */
export function statusForResponseErrorCode(code: string): number {
  switch (code) {
    case "rate_limit_exceeded":
    case "usage_limit_reached":
    case "insufficient_quota":
      return 429;
    case "context_length_exceeded":
    case "invalid_prompt":
    case "invalid_request_error":
    case "previous_response_not_found":
    case "usage_not_included":
      return 400;
    case "server_is_overloaded":
    case "slow_down":
      return 503;
    case "upstream_idle_timeout":
      return 504;
    default:
      return 502;
  }
}
