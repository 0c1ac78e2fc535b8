// The floors for `npm run bench`: a Worker that only forwards the request to the upstream and
// streams the answer back, and the same through a Durable Object (`/via-object/...`). What the
// gateway adds beyond these is the gateway's own cost. `/sink-object/...` reads the body in a
// Durable Object and answers a fixed one-message response without any upstream: what carrying
// a client's (growing) body to a session object costs by itself.
import { DurableObject } from "cloudflare:workers";

interface Environment {
  UPSTREAM_URL: string;
  FLOOR_OBJECT: DurableObjectNamespace;
}

function forward(request: Request, upstreamUrl: string, path: string): Promise<Response> {
  return fetch(`${upstreamUrl}${path.replace(/^\/v1/, "")}`, { method: request.method, headers: request.headers, body: request.body });
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
  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/sink/")) {
      await request.text();
      return sinkAnswer();
    }
    return forward(request, this.env.UPSTREAM_URL, path);
  }
}

export default {
  fetch(request: Request, env: Environment): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/via-object/")) {
      const stub = env.FLOOR_OBJECT.get(env.FLOOR_OBJECT.idFromName("floor"));
      return stub.fetch(new Request(request.url.replace("/via-object", ""), request));
    }
    if (path.startsWith("/sink-object/")) {
      const stub = env.FLOOR_OBJECT.get(env.FLOOR_OBJECT.idFromName("floor"));
      return stub.fetch(new Request(request.url.replace("/sink-object", "/sink"), request));
    }
    return forward(request, env.UPSTREAM_URL, path);
  },
};
