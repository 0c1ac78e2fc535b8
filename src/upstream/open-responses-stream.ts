/**
 * One upstream `POST /responses` turned into a stream of Responses events, or a GatewayError
 * when the upstream fails before its first byte (same status, OpenAI-shaped body, rate-limit
 * headers kept). Waiting for the upstream's headers counts against the idle limit too.
 */
import { GatewayError } from "../errors/gateway-error";
import { eventFromPayload, isRecord } from "../streams/responses-event";
import { eventReaderOf, type EventReader } from "../streams/event-reader";
import { readResponsesEvents } from "../streams/sse-reader";
import type { ResponsesUpstream, UpstreamCall } from "./responses-upstream";
import { errorFromUpstreamResponse } from "./upstream-error";
import { pickReturnedResponseHeaders } from "./upstream-headers";
import { readUpstreamJson } from "./read-upstream-json";

/** A whole response object (output, echoed tools and instructions) is well under this. */
const maxResponseObjectBytes = 64 * 1024 * 1024;

export interface UpstreamStream {
  status: number;
  events: EventReader;
  /** Headers for the client: routing and rate-limit information only. */
  headers: Headers;
}

export async function openResponsesStream(
  upstream: ResponsesUpstream,
  call: Omit<UpstreamCall, "method" | "signal">,
  options: { idleTimeoutMs: number; signal?: AbortSignal | undefined },
): Promise<UpstreamStream> {
  const abort = new AbortController();
  const onClientAbort = () => abort.abort(new Error("client disconnected"));
  options.signal?.addEventListener("abort", onClientAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort(new Error("upstream headers timeout"));
      reject(
        new GatewayError(
          "upstream_idle_timeout",
          `The upstream did not answer within ${Math.round(options.idleTimeoutMs / 1000)} s.`,
        ),
      );
    }, options.idleTimeoutMs);
  });
  let response: Response;
  try {
    response = await Promise.race([upstream.send("/responses", { ...call, method: "POST", signal: abort.signal }), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  if (!response.ok) throw await errorFromUpstreamResponse(response, upstream.secrets);
  const headers = pickReturnedResponseHeaders(response.headers);
  if (!response.body) throw new GatewayError("upstream_disconnected", "The upstream answered without a body.");
  const contentType = response.headers.get("content-type") ?? "";
  const events = contentType.includes("application/json")
    ? eventsFromResponseObject(await readUpstreamJson(response, { idleTimeoutMs: options.idleTimeoutMs, maxBytes: maxResponseObjectBytes }))
    : readResponsesEvents(response.body, upstream.secrets);
  return { status: response.status, events, headers };
}

/** An upstream that ignored `stream: true` and sent the final object: replay it as events. */
function eventsFromResponseObject(response: unknown): EventReader {
  if (!isRecord(response) || response.object !== "response") {
    throw new GatewayError("upstream_error", "The upstream answered JSON that is not a response object.");
  }
  const output = Array.isArray(response.output) ? response.output : [];
  const terminal =
    response.status === "failed" ? "response.failed" : response.status === "incomplete" ? "response.incomplete" : "response.completed";
  const payloads = [
    { type: "response.created", response: { ...response, status: "in_progress", output: [] } },
    ...output.map((item, output_index) => ({ type: "response.output_item.done", output_index, item })),
    { type: terminal, response },
  ];
  return eventReaderOf([payloads.map((payload, sequence_number) => eventFromPayload({ ...payload, sequence_number }))]);
}
