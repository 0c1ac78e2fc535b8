// The floors for `npm run bench`: a Worker that only forwards the request to the upstream and
// streams the answer back, and the same through a Durable Object (`/via-object/...`). What the
// gateway adds beyond these is the gateway's own cost.
import { DurableObject } from "cloudflare:workers";

interface Environment {
  UPSTREAM_URL: string;
  FLOOR_OBJECT: DurableObjectNamespace;
}

function forward(request: Request, upstreamUrl: string, path: string): Promise<Response> {
  return fetch(`${upstreamUrl}${path.replace(/^\/v1/, "")}`, { method: request.method, headers: request.headers, body: request.body });
}

export class FloorObject extends DurableObject<Environment> {
  override fetch(request: Request): Promise<Response> {
    return forward(request, this.env.UPSTREAM_URL, new URL(request.url).pathname);
  }
}

export default {
  fetch(request: Request, env: Environment): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/via-object/")) {
      const stub = env.FLOOR_OBJECT.get(env.FLOOR_OBJECT.idFromName("floor"));
      return stub.fetch(new Request(request.url.replace("/via-object", ""), request));
    }
    return forward(request, env.UPSTREAM_URL, path);
  },
};
