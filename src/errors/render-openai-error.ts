/**
 * GatewayError in the OpenAI shapes: the HTTP error body `{"error": {message, type, param, code}}`
 * and, once a stream has started, the in-band terminal `response.failed` event (docs/protocol.md §1).
 */
import { publicMessage, type GatewayError, type GatewayErrorKind } from "./gateway-error";

const openAiType: Record<GatewayErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  conflict: "invalid_request_error",
  payload_too_large: "invalid_request_error",
  unsupported_media_type: "invalid_request_error",
  rate_limited: "rate_limit_error",
  configuration: "server_error",
  service_unavailable: "server_error",
  upstream_error: "server_error",
  upstream_unreachable: "server_error",
  upstream_disconnected: "server_error",
  upstream_idle_timeout: "server_error",
  internal: "server_error",
};

/** The code a client sees; gateway-made failures get codes Codex treats as retryable (§3). */
export function openAiErrorCode(error: GatewayError): string | null {
  if (error.code) return error.code;
  switch (error.kind) {
    case "upstream_disconnected":
    case "upstream_unreachable":
    case "upstream_idle_timeout":
      return error.kind;
    case "rate_limited":
      return "rate_limit_exceeded";
    case "authentication":
      return "invalid_api_key";
    case "internal":
    case "configuration":
      return "server_error";
    case "upstream_error":
      return error.status >= 500 ? "server_error" : null;
    default:
      return null;
  }
}

export function openAiErrorBody(error: GatewayError): { error: Record<string, unknown> } {
  return {
    error: {
      message: publicMessage(error),
      type: error.type ?? openAiType[error.kind],
      param: error.param,
      code: openAiErrorCode(error),
    },
  };
}

export function openAiErrorResponse(error: GatewayError): Response {
  const headers = new Headers(error.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(openAiErrorBody(error)), { status: error.status, headers });
}

export interface FailedResponseContext {
  responseId?: string | undefined;
  model?: string | undefined;
  createdAt?: number | undefined;
  sequenceNumber: number;
}

/** A `response.failed` event that ends a Responses stream after its first byte. */
export function responseFailedEvent(error: GatewayError, context: FailedResponseContext): Record<string, unknown> {
  return {
    type: "response.failed",
    sequence_number: context.sequenceNumber,
    response: {
      id: context.responseId ?? `resp_failed_${crypto.randomUUID().replaceAll("-", "")}`,
      object: "response",
      created_at: context.createdAt ?? Math.floor(Date.now() / 1000),
      status: "failed",
      model: context.model ?? null,
      output: [],
      error: { code: openAiErrorCode(error) ?? "server_error", message: publicMessage(error) },
      incomplete_details: null,
      usage: null,
    },
  };
}
