// The floors for `npm run bench`: a Worker that only forwards the request to the upstream and
// streams the answer back, and the same through a Durable Object (`/via-object/...`). What the
// gateway adds beyond these is the gateway's own cost. `/sink-object/...` reads the body in a
// Durable Object and answers a fixed one-message response without any upstream: what carrying
// a client's (growing) body to a session object costs by itself. `/via-socket/...` is the least a
// session of this design does: a Durable Object that keeps one upstream WebSocket, parses the
// client's body, sends the upstream only its last input item chained to the previous response,
// and relays every upstream event to the client as SSE (JSON-parsed, to find the terminal).
// `/watching/...` is the least a gateway does that promises every stream one terminal event: it
// reads and parses the request, reads the upstream body in JavaScript, parses each SSE event to
// see whether a terminal came, writes each chunk on unchanged, and ends a stream cut short with
// an error event. Both write into an `IdentityTransformStream`, which the runtime pumps itself
// (a JavaScript `TransformStream` as the response body measured ~1 ms slower per stream).
import { DurableObject } from "cloudflare:workers";
import { createParser } from "eventsource-parser";

interface Environment {
  UPSTREAM_URL: string;
  FLOOR_OBJECT: DurableObjectNamespace;
}

function forward(request: Request, upstreamUrl: string, path: string): Promise<Response> {
  return fetch(`${upstreamUrl}${path.replace(/^\/v1/, "")}`, { method: request.method, headers: request.headers, body: request.body });
}

const terminalTypes = new Set(["response.completed", "response.failed", "response.incomplete", "error"]);
const encoder = new TextEncoder();

async function forwardWatching(request: Request, upstreamUrl: string, path: string): Promise<Response> {
  // A gateway must read the request (its model picks the account): parsed once, sent on as read.
  const text = await request.text();
  JSON.parse(text);
  const upstream = await fetch(`${upstreamUrl}${path.replace(/^\/v1/, "")}`, { method: request.method, headers: request.headers, body: text });
  if (!upstream.body) return upstream;
  const { readable, writable } = new IdentityTransformStream();
  void watch(upstream.body, writable.getWriter());
  return new Response(readable, { status: upstream.status, headers: upstream.headers });
}

async function watch(body: ReadableStream<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
  let terminal = false;
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent(event) {
      // The type from the data's start, as the gateway reads it: response.created and
      // response.completed echo the whole request, too much to parse for a name.
      if (terminalTypes.has(/^\{"type":"([^"]+)"/.exec(event.data)?.[1] ?? "")) terminal = true;
    },
  });
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
    await writer.write(value);
  }
  if (!terminal) await writer.write(encoder.encode(`event: error\ndata: {"type":"error","message":"the upstream stream ended early"}\n\n`));
  await writer.close();
}

let sinkCount = 0;

/** What the session benchmark's upstream answers: a reasoning item (1,700 characters) and a call. */
function sinkAnswer(): Response {
  sinkCount += 1;
  const reasoning = { id: `rs_sink_${sinkCount}`, type: "reasoning", summary: [], encrypted_content: `gAAAAA${String(sinkCount).padStart(1_694, "x")}` };
  const call = { id: `fc_sink_${sinkCount}`, type: "function_call", status: "completed", arguments: '{"cmd":"echo hi"}', call_id: `call_sink_${sinkCount}`, name: "exec_command" };
  const response = { id: `resp_sink_${sinkCount}`, object: "response", status: "completed", output: [reasoning, call] };
  const events = [
    ["response.created", { type: "response.created", sequence_number: 0, response: { ...response, status: "in_progress", output: [] } }],
    ["response.output_item.done", { type: "response.output_item.done", sequence_number: 1, output_index: 0, item: reasoning }],
    ["response.output_item.done", { type: "response.output_item.done", sequence_number: 2, output_index: 1, item: call }],
    ["response.completed", { type: "response.completed", sequence_number: 3, response }],
  ] as const;
  const text = events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join("");
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

export class FloorObject extends DurableObject<Environment> {
  #socket: WebSocket | undefined;
  #previousResponseId: string | undefined;
  #relay: WritableStreamDefaultWriter<Uint8Array> | undefined;

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/sink/")) {
      await request.text();
      return sinkAnswer();
    }
    if (path.startsWith("/socket/")) return this.#relayTurn(request);
    return forward(request, this.env.UPSTREAM_URL, path);
  }

  async #relayTurn(request: Request): Promise<Response> {
    const { stream: _stream, input, ...fields } = (await request.json()) as { stream?: boolean; input: unknown[] };
    const socket = this.#socket ?? (await this.#openSocket(request.headers.get("authorization") ?? ""));
    const { readable, writable } = new IdentityTransformStream();
    this.#relay = writable.getWriter();
    const chained = this.#previousResponseId === undefined ? { input } : { input: input.slice(-1), previous_response_id: this.#previousResponseId };
    socket.send(JSON.stringify({ type: "response.create", ...fields, ...chained }));
    return new Response(readable, { headers: { "content-type": "text/event-stream" } });
  }

  async #openSocket(authorization: string): Promise<WebSocket> {
    const response = await fetch(`${this.env.UPSTREAM_URL}/responses`, { headers: { upgrade: "websocket", authorization } });
    const socket = response.webSocket;
    if (!socket) throw new Error(`the upstream refused the socket: ${response.status}`);
    socket.accept();
    socket.addEventListener("message", (message) => {
      const data = message.data as string;
      const event = JSON.parse(data) as { type: string; response?: { id?: string } };
      void this.#relay?.write(encoder.encode(`event: ${event.type}\ndata: ${data}\n\n`));
      if (!terminalTypes.has(event.type)) return;
      if (event.type === "response.completed") this.#previousResponseId = event.response?.id;
      void this.#relay?.close();
      this.#relay = undefined;
    });
    this.#socket = socket;
    return socket;
  }
}

export default {
  fetch(request: Request, env: Environment): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/via-object/")) {
      const stub = env.FLOOR_OBJECT.get(env.FLOOR_OBJECT.idFromName("floor"));
      return stub.fetch(new Request(request.url.replace("/via-object", ""), request));
    }
    if (path.startsWith("/via-socket/")) {
      const stub = env.FLOOR_OBJECT.get(env.FLOOR_OBJECT.idFromName(request.headers.get("session-id") ?? "socket"));
      return stub.fetch(new Request(request.url.replace("/via-socket", "/socket"), request));
    }
    if (path.startsWith("/sink-object/")) {
      const stub = env.FLOOR_OBJECT.get(env.FLOOR_OBJECT.idFromName("floor"));
      return stub.fetch(new Request(request.url.replace("/sink-object", "/sink"), request));
    }
    if (path.startsWith("/watching/")) return forwardWatching(request, env.UPSTREAM_URL, path.slice("/watching".length));
    return forward(request, env.UPSTREAM_URL, path);
  },
};
