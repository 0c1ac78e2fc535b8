/**
 * The upstream side of the gateway: something that answers Responses API calls.
 *
 * Two implementations: `HttpResponsesUpstream` (a real provider over fetch) and the built-in
 * mock, which answers in-process with the same bytes a provider would send, so that everything
 * after this boundary (SSE parsing, supervision, aggregation) runs the same for both.
 */
import type { UpstreamConfiguration, UpstreamKind } from "../configuration/configuration";
import { GatewayError } from "../errors/gateway-error";
import { createMockUpstream } from "./mock/mock-upstream";
import { openResponsesSocket, type ResponsesSocket } from "./responses-socket";

export type UpstreamPath = "/responses" | "/responses/compact" | "/models";

export interface UpstreamCall {
  method: "GET" | "POST";
  /** JSON text, already prepared for this upstream (see `prepareRequestBody`). */
  body?: string;
  /** Client headers that may be forwarded (see `pickForwardedRequestHeaders`). */
  headers: Headers;
  /** Query string to pass on, e.g. `?client_version=…` for `/models`. */
  search?: string;
  signal?: AbortSignal;
}

export interface ResponsesUpstream {
  readonly kind: UpstreamKind;
  /** Values that must never appear in anything the gateway says (keys, tokens). */
  readonly secrets: readonly string[];
  send(path: UpstreamPath, call: UpstreamCall): Promise<Response>;
  /** Opens a Responses WebSocket (`{base}/responses`) with the forwarded client headers. */
  openSocket(headers: Headers): Promise<ResponsesSocket>;
}

export function createUpstream(configuration: UpstreamConfiguration): ResponsesUpstream {
  return configuration.kind === "mock" ? createMockUpstream() : new HttpResponsesUpstream(configuration);
}

export class HttpResponsesUpstream implements ResponsesUpstream {
  readonly kind: UpstreamKind;
  readonly secrets: readonly string[];

  constructor(private readonly configuration: UpstreamConfiguration) {
    this.kind = configuration.kind;
    this.secrets = configuration.apiKey ? [configuration.apiKey] : [];
  }

  async send(path: UpstreamPath, call: UpstreamCall): Promise<Response> {
    const headers = this.#headers(call.headers);
    if (call.body !== undefined) headers.set("content-type", "application/json");
    headers.set("accept", path === "/responses" ? "text/event-stream" : "application/json");
    try {
      return await fetch(`${this.configuration.baseUrl}${path}${call.search ?? ""}`, {
        method: call.method,
        headers,
        body: call.body,
        signal: call.signal,
      });
    } catch (cause) {
      if (call.signal?.aborted) throw new GatewayError("upstream_disconnected", "The request was cancelled.", { cause });
      throw new GatewayError("upstream_unreachable", "The gateway could not reach the upstream.", { cause });
    }
  }

  openSocket(forwarded: Headers): Promise<ResponsesSocket> {
    const headers = this.#headers(forwarded);
    headers.set("openai-beta", "responses_websockets=2026-02-06");
    return openResponsesSocket({ url: `${this.configuration.baseUrl}/responses`, headers, secrets: this.secrets });
  }

  #headers(forwarded: Headers): Headers {
    const headers = new Headers(forwarded);
    if (this.configuration.apiKey) headers.set("authorization", `Bearer ${this.configuration.apiKey}`);
    if (this.kind === "chatgpt" && this.configuration.accountId) {
      headers.set("chatgpt-account-id", this.configuration.accountId);
    }
    return headers;
  }
}

/**
 * The body as this upstream needs it. The gateway always streams from the upstream (it
 * aggregates for `stream: false` clients), and the ChatGPT backend requires `store: false`
 * (protocol §4). The client's text is forwarded untouched when nothing changes, so a
 * multi-megabyte history is not re-serialised.
 */
export function prepareRequestObject(kind: UpstreamKind, body: Record<string, unknown>): Record<string, unknown> {
  return kind === "chatgpt" && body.store !== false ? { ...body, store: false } : body;
}

export function prepareRequestBody(
  kind: UpstreamKind,
  body: Record<string, unknown>,
  originalText: string,
): string {
  const needsStream = body.stream !== true;
  const needsStoreFalse = kind === "chatgpt" && body.store !== false;
  if (!needsStream && !needsStoreFalse) return originalText;
  const prepared: Record<string, unknown> = { ...body, stream: true };
  if (needsStoreFalse) prepared.store = false;
  return JSON.stringify(prepared);
}
