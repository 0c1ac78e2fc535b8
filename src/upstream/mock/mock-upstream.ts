/**
 * The built-in mock upstream: the default when `UPSTREAM_URL` is unset, so that a fresh clone
 * answers real clients with no keys and no network. It speaks the Responses API's HTTP shapes
 * (SSE stream, `/responses/compact`, `/models`) and is deterministic: the same request body
 * gets the same ids and text. See `mock-reply.ts` for what it says.
 */
import { GatewayError } from "../../errors/gateway-error";
import { isRecord } from "../../streams/responses-event";
import { encodeServerSentEvent, sseHeaders } from "../../streams/sse-writer";
import type { ResponsesUpstream, UpstreamCall, UpstreamPath } from "../responses-upstream";
import type { ResponsesSocket } from "../responses-socket";
import { MockResponsesSocket } from "./mock-socket";
import { mockResponseEvents } from "./mock-events";
import { decideMockReply } from "./mock-reply";
import { fingerprint } from "../../shared/fingerprint";

export const mockModels = ["gpt-5.5", "gpt-5.5-mini", "gpt-5.4", "gpt-5.3-codex"];

export function createMockUpstream(): ResponsesUpstream {
  return {
    kind: "mock",
    secrets: [],
    async send(path: UpstreamPath, call: UpstreamCall): Promise<Response> {
      if (path === "/models") return Response.json(modelList());
      const text = typeof call.body === "string" || call.body === undefined ? call.body : new TextDecoder().decode(call.body);
      const body = parseBody(text);
      if (path === "/responses/compact") return Response.json(compactResponse(body));
      return streamResponse(body, text ?? "");
    },
    async openSocket(): Promise<ResponsesSocket> {
      return new MockResponsesSocket();
    },
  };
}

function streamResponse(body: Record<string, unknown>, text: string): Response {
  const events = mockResponseEvents({
    body,
    reply: decideMockReply(body),
    seed: fingerprint(JSON.stringify(body.input ?? null)),
    inputBytes: text.length,
    createdAt: Math.floor(Date.now() / 1000),
  });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of events) controller.enqueue(encodeServerSentEvent(String(event.type), JSON.stringify(event)));
      controller.close();
    },
  });
  return new Response(stream, { headers: { ...sseHeaders, "x-codex-turn-state": `mock-turn-${fingerprint(text)}` } });
}

/** `/responses/compact`: Codex's remote compaction; the history becomes one summary message. */
function compactResponse(body: Record<string, unknown>): Record<string, unknown> {
  const count = Array.isArray(body.input) ? body.input.length : 0;
  return {
    output: [
      {
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: `Summary of ${count} earlier items (compacted by the Turnpike mock).` }],
      },
    ],
  };
}

function modelList(): Record<string, unknown> {
  return {
    object: "list",
    data: mockModels.map((id) => ({ id, object: "model", created: 1_767_225_600, owned_by: "turnpike-mock" })),
  };
}

function parseBody(text: string | undefined): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(text ?? "{}");
    if (isRecord(body)) return body;
  } catch {
    // Falls through: the inbound side validates bodies, so this is a gateway bug.
  }
  throw new GatewayError("internal", "The mock upstream received a body that is not a JSON object.");
}
