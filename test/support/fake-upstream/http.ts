// HTTP side: POST /responses (SSE or JSON), POST /responses/compact, GET /models, 404;
// POST /oauth/token (at the root) for ChatGPT token refreshes.
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerTokenRequest, bearerAccepted, tokenRequestBody } from "./oauth.js";
import { applyFault } from "./faults.js";
import type { InjectedTurn } from "./faults.js";
import { MODELS, apiError, buildPlan, compactBody, httpFailure, normalizeInput, resolveScenario } from "./scenarios.js";
import type { ResolvedScenario } from "./scenarios.js";
import { runPlan, sleep, waitAbort } from "./stream.js";
import type { Sink } from "./stream.js";
import { flatHeaders, parseBody, pathOf, takeScenario } from "./state.js";
import type { RecordedRequest, State } from "./state.js";

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers,
  });
  res.end(text);
}

interface Exchange {
  st: State;
  req: IncomingMessage;
  res: ServerResponse;
  rec: RecordedRequest;
  signal: AbortSignal;
  /** Drop the TCP connection without an answer or in the middle of one. */
  destroy(): void;
}

export async function handleHttp(st: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of req) chunks.push(c as Buffer);
  } catch {
    return; // client went away while sending its body
  }
  const raw = Buffer.concat(chunks);
  const path = pathOf(req.url);
  const method = req.method ?? "GET";
  const rec: RecordedRequest = {
    method, path, headers: flatHeaders(req.headers), body: parseBody(raw), bytes: raw.length, transport: "http",
  };
  st.requests.push(rec);

  const ac = new AbortController();
  st.active.add(ac);
  let destroyedByServer = false;
  res.on("close", () => {
    if (!res.writableFinished && !destroyedByServer) rec.clientAborted = true;
    ac.abort();
    st.active.delete(ac);
  });
  const ex: Exchange = {
    st, req, res, rec, signal: ac.signal,
    destroy: () => {
      destroyedByServer = true;
      req.socket.destroy();
    },
  };

  const p = st.prefix;
  if (method === "POST" && path === "/oauth/token") {
    const answer = await answerTokenRequest(st.auth, tokenRequestBody(rec.body, req.headers["content-type"]), ac.signal);
    return json(res, answer.status, answer.body);
  }
  if (method === "GET" && path === `${p}/models`) return json(res, 200, { object: "list", data: MODELS });
  if (method === "POST" && (path === `${p}/responses` || path === `${p}/responses/compact`) && !bearerAccepted(st.auth, rec.headers)) {
    return json(res, 401, { detail: "Unauthorized" });
  }
  if (method === "POST" && path === `${p}/responses`) return responses(ex);
  if (method === "POST" && path === `${p}/responses/compact`) return compact(ex);
  json(res, 404, apiError(`Invalid URL (${method} ${path})`, "invalid_request_error", null));
}

/**
 * Picks the scenario (the fault injector's reply, else the script or the model) and answers
 * HTTP-status failures; returns null when the request is answered.
 */
function pick(ex: Exchange, injected?: InjectedTurn): ResolvedScenario | null {
  const body = ex.rec.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    json(ex.res, 400, apiError("We could not parse the JSON body of your request.", "invalid_request_error", null));
    return null;
  }
  const fault = injected?.fault;
  if (fault?.type === "status") {
    ex.res.writeHead(fault.status, { "content-type": fault.contentType, "content-length": String(Buffer.byteLength(fault.body)) });
    // A stalled body stays open until the gateway gives up on it (or the server closes).
    if (fault.stallBody) ex.res.write(fault.body.slice(0, Math.floor(fault.body.length / 2)));
    else ex.res.end(fault.body);
    return null;
  }
  if (fault?.type === "previous-not-found") {
    previousNotFound(ex.res, body.previous_response_id);
    return null;
  }
  const sc = injected ? resolveScenario(injected.reply === "function_call" ? "function-call" : "ok") : takeScenario(ex.st, body.model);
  if (!sc) {
    json(ex.res, 400, apiError(`The model '${body.model}' does not exist (unknown fake scenario).`,
      "invalid_request_error", "model_not_found", "model"));
    return null;
  }
  ex.rec.scenario = sc.name;
  const fail = httpFailure(sc.name);
  if (fail) {
    json(ex.res, fail.status, fail.body, { "x-request-id": `req_fake_err_${ex.st.requests.length}`, ...fail.headers });
    return null;
  }
  return sc;
}

function previousNotFound(res: ServerResponse, id: unknown): void {
  json(res, 400, apiError(`Previous response with id '${String(id)}' not found.`, "invalid_request_error", "previous_response_not_found", "previous_response_id"));
}

async function responses(ex: Exchange): Promise<void> {
  const { st, res, rec, signal } = ex;
  const body = rec.body;
  const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
  // A response that was not stored cannot be chained from over HTTP (checked before any fault).
  if (isObject && st.stored && typeof body.previous_response_id === "string" && !st.stored.has(body.previous_response_id)) {
    st.injector?.onRefused?.({ transport: "http", body, headers: rec.headers }, "previous_response_not_found");
    return previousNotFound(res, body.previous_response_id);
  }
  const injected = isObject ? st.injector?.forRequest({ transport: "http", body, headers: rec.headers }) : undefined;
  const sc = pick(ex, injected);
  if (!sc) return;
  const n = ++st.n;
  const built = buildPlan(sc, {
    n, model: String(body.model ?? ""), body, input: normalizeInput(body.input), generate: true, extras: st.extras, replyTag: injected?.tag,
  });
  const plan = applyFault({ ...built, delayMs: injected?.paceMs ?? built.delayMs }, injected?.fault, "http");
  const headers: Record<string, string> = {
    "x-request-id": `req_fake_${n}`, "x-codex-turn-state": `ts-${n}`,
    "x-ratelimit-remaining-requests": "99", "x-codex-primary-used-percent": "12",
  };
  // Stream faults have no JSON form: a `stream: false` request gets the response as built.
  if (body.stream === false) return nonStreaming(ex, sc, built.final, headers);

  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers });
  res.flushHeaders();
  const sink: Sink = {
    send: (ev) => new Promise<void>((resolve) => {
      res.write(`event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`, () => resolve());
    }),
    raw: (text, binary) => new Promise<void>((resolve) => {
      res.write(binary ? Buffer.from(text, "latin1") : text, () => resolve());
    }),
    finish: (ending) => (ending === "destroy" ? ex.destroy() : res.end()),
  };
  const finished = await runPlan(plan, sink, signal);
  if (!finished && injected) st.injector?.onAbandoned?.(injected);
  if (finished && plan.completed && body.store === true) st.stored?.add(`resp_fake_${n}`);
}

/** `stream: false`: the JSON response object, or the non-streaming analogue of the failure. */
async function nonStreaming(ex: Exchange, sc: ResolvedScenario, final: any, headers: Record<string, string>) {
  const { res, signal } = ex;
  switch (sc.name) {
    case "connection-reset": return ex.destroy();
    case "silent": return waitAbort(signal);
    case "in-stream-error":
      return json(res, 503, apiError("Our servers are currently overloaded. Please try again later.",
        "server_error", "server_is_overloaded"), headers);
    case "response-failed":
      return json(res, 500, apiError("The model failed to generate a response.", "server_error", "server_error"), headers);
    case "slow": await sleep(sc.delayMs, signal); break;
    case "silent-then-ok": await sleep(sc.silenceMs, signal); break;
    default: break;
  }
  if (signal.aborted) return;
  if (sc.name !== "early-close") return json(res, 200, final, headers);
  const text = JSON.stringify(final); // truncated body, no content-length, clean end
  res.writeHead(200, { "content-type": "application/json", ...headers });
  res.end(text.slice(0, Math.floor(text.length / 2)));
}

async function compact(ex: Exchange): Promise<void> {
  const sc = pick(ex);
  if (!sc) return;
  if (sc.name === "connection-reset") return ex.destroy();
  if (sc.name === "silent") return waitAbort(ex.signal);
  json(ex.res, 200, compactBody(normalizeInput(ex.rec.body.input)));
}
