/**
 * The upstream side of the gateway: something that answers Responses API calls.
 *
 * Two implementations: `HttpResponsesUpstream` (a real provider over fetch) and the built-in
 * mock, which answers in-process with the same bytes a provider would send, so that everything
 * after this boundary (SSE parsing, supervision, aggregation) runs the same for both.
 */
import type { Account } from "../accounts/accounts-configuration";
import type { UpstreamKind } from "../configuration/configuration";
import { GatewayError } from "../errors/gateway-error";
import { createMockUpstream } from "./mock/mock-upstream";
import { openResponsesSocket, type ResponsesSocket } from "./responses-socket";

export type UpstreamPath = "/responses" | "/responses/compact" | "/models";

export interface UpstreamCall {
  method: "GET" | "POST";
  /** JSON, already prepared for this upstream (see `prepareRequestBody`): text, or the client's bytes as received. */
  body?: string | Uint8Array;
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
  /** Opens a Responses WebSocket; an upgrade unanswered within `timeoutMs` fails. */
  openSocket(headers: Headers, timeoutMs: number): Promise<ResponsesSocket>;
}

/** Where an account's bearer comes from (fixed, or ChatGPT OAuth tokens that refresh). */
export interface CredentialSource {
  get(): Promise<UpstreamCredential>;
  /** After a 401 on `bearer`: a fresh credential (a refresh), or undefined when none can be had. */
  rejected?(bearer: string): Promise<UpstreamCredential>;
}

export interface UpstreamCredential {
  bearer?: string;
  chatgptAccountId?: string;
}

export function staticCredentials(credential: Account["credential"]): CredentialSource {
  const value: UpstreamCredential =
    credential.type === "static" ? { bearer: credential.bearer, ...(credential.chatgptAccountId ? { chatgptAccountId: credential.chatgptAccountId } : {}) } : {};
  return { get: async () => value };
}

export function createUpstream(account: Account, credentials: CredentialSource): ResponsesUpstream {
  return account.kind === "mock" ? createMockUpstream() : new HttpResponsesUpstream(account, credentials);
}

export class HttpResponsesUpstream implements ResponsesUpstream {
  readonly kind: UpstreamKind;
  /** Every bearer this upstream has used: redacted from anything it says. */
  readonly secrets: string[] = [];

  constructor(
    private readonly account: Account,
    private readonly credentials: CredentialSource,
  ) {
    this.kind = account.kind;
    if (account.credential.type === "static") this.secrets.push(account.credential.bearer);
  }

  async send(path: UpstreamPath, call: UpstreamCall): Promise<Response> {
    const credential = await this.credentials.get();
    const response = await this.#fetch(path, call, credential);
    // A ChatGPT access token can expire early or be revoked: refresh once and resend.
    if (response.status !== 401 || !this.credentials.rejected || !credential.bearer) return response;
    await response.body?.cancel();
    return this.#fetch(path, call, await this.credentials.rejected(credential.bearer));
  }

  async openSocket(forwarded: Headers, timeoutMs: number): Promise<ResponsesSocket> {
    const credential = await this.credentials.get();
    try {
      return await this.#openSocket(forwarded, credential, timeoutMs);
    } catch (error) {
      if (!(error instanceof GatewayError) || error.upstreamStatus !== 401 || !this.credentials.rejected || !credential.bearer) throw error;
      return this.#openSocket(forwarded, await this.credentials.rejected(credential.bearer), timeoutMs);
    }
  }

  #openSocket(forwarded: Headers, credential: UpstreamCredential, timeoutMs: number): Promise<ResponsesSocket> {
    const headers = this.#headers(forwarded, credential);
    headers.set("openai-beta", "responses_websockets=2026-02-06");
    return openResponsesSocket({ url: `${this.account.baseUrl}/responses`, headers, secrets: this.secrets, timeoutMs });
  }

  async #fetch(path: UpstreamPath, call: UpstreamCall, credential: UpstreamCredential): Promise<Response> {
    const headers = this.#headers(call.headers, credential);
    if (call.body !== undefined) headers.set("content-type", "application/json");
    headers.set("accept", path === "/responses" ? "text/event-stream" : "application/json");
    try {
      return await fetch(`${this.account.baseUrl}${path}${call.search ?? ""}`, {
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

  #headers(forwarded: Headers, credential: UpstreamCredential): Headers {
    const headers = new Headers(forwarded);
    if (credential.bearer) {
      if (!this.secrets.includes(credential.bearer)) {
        this.secrets.push(credential.bearer);
        // Refreshed tokens replace each other; the fixed credential (first) and recent ones stay.
        if (this.secrets.length > 8) this.secrets.splice(1, 1);
      }
      headers.set("authorization", `Bearer ${credential.bearer}`);
    }
    if (this.kind === "chatgpt" && credential.chatgptAccountId) headers.set("chatgpt-account-id", credential.chatgptAccountId);
    return headers;
  }
}

/** The request object for this upstream: `store: false` for ChatGPT, the account's model name. */
export function prepareRequestObject(kind: UpstreamKind, body: Record<string, unknown>, model?: string): Record<string, unknown> {
  const prepared = kind === "chatgpt" && body.store !== false ? { ...body, store: false } : body;
  return model !== undefined && model !== body.model ? { ...prepared, model } : prepared;
}

/**
 * The body as this upstream needs it. The gateway always streams from the upstream (it
 * aggregates for `stream: false` clients), the ChatGPT backend requires `store: false`
 * (docs/protocol.md §4), and an alias becomes the account's own model name. The client's text is
 * forwarded untouched when nothing changes, so a multi-megabyte history is not re-serialised.
 */
export function prepareRequestBody(kind: UpstreamKind, body: Record<string, unknown>, original: string | Uint8Array, model?: string): string | Uint8Array {
  const needsStream = body.stream !== true;
  const needsStoreFalse = kind === "chatgpt" && body.store !== false;
  const needsModel = model !== undefined && model !== body.model;
  if (!needsStream && !needsStoreFalse && !needsModel) return original;
  return JSON.stringify({ ...prepareRequestObject(kind, body, model), stream: true });
}
