// The floor for `npm run bench`: a Worker that only forwards the request to the upstream and
// streams the answer back. What the gateway adds beyond this is the gateway's own cost.
export default {
  fetch(request: Request, env: { UPSTREAM_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    return fetch(`${env.UPSTREAM_URL}${url.pathname.replace(/^\/v1/, "")}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
  },
};
