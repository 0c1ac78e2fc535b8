/**
 * GatewayError in the Anthropic shape `{"type":"error","error":{"type","message"}}`, with the
 * status and error type Anthropic clients act on: 429 `rate_limit_error` (with `retry-after`),
 * 529 `overloaded_error` (clients back off and retry), `authentication_error`, …
 */
import { publicMessage, type GatewayError } from "./gateway-error";

const overloadedCodes = new Set(["server_is_overloaded", "slow_down"]);

export function anthropicErrorType(error: GatewayError): string {
  if (error.code && overloadedCodes.has(error.code)) return "overloaded_error";
  switch (error.status) {
    case 400:
    case 405:
    case 409:
    case 415:
    case 426:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return error.status >= 500 ? "api_error" : "invalid_request_error";
  }
}

export function anthropicErrorStatus(error: GatewayError): number {
  return anthropicErrorType(error) === "overloaded_error" ? 529 : error.status;
}

export function anthropicErrorBody(error: GatewayError): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type: anthropicErrorType(error), message: publicMessage(error) } };
}

export function anthropicErrorResponse(error: GatewayError, requestId?: string): Response {
  const headers = new Headers(error.headers);
  headers.set("content-type", "application/json");
  if (requestId) headers.set("request-id", requestId);
  return new Response(JSON.stringify(anthropicErrorBody(error)), { status: anthropicErrorStatus(error), headers });
}
