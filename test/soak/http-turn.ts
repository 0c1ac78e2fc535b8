// One HTTP turn as a client sees it: the status, the SSE events as they arrived (or the JSON
// body), and how it ended — within a hard deadline, or by the client leaving on purpose.
import { createParser } from "eventsource-parser";

export interface SseEvent {
  event: string | undefined;
  data: string;
}

export type ClientAbort = { afterEvents: number } | { afterMs: number };

export interface HttpObservation {
  transport: "http";
  status: number | undefined;
  contentType: string;
  /** The gateway's id for this request (log lines carry it). */
  requestId: string | undefined;
  events: SseEvent[];
  /** A non-streamed body. */
  text: string | undefined;
  endedBy: "complete" | "deadline" | "client-left" | "network-error";
  networkError?: string;
  /** When the client left on purpose. */
  leftAt?: number;
  durationMs: number;
}

export interface HttpTurnOptions {
  deadlineMs: number;
  abort?: ClientAbort | undefined;
}

export async function postTurn(url: string, body: unknown, headers: Record<string, string>, options: HttpTurnOptions): Promise<HttpObservation> {
  const started = Date.now();
  const controller = new AbortController();
  let endedBy: HttpObservation["endedBy"] = "complete";
  const deadline = setTimeout(() => {
    endedBy = "deadline";
    controller.abort();
  }, options.deadlineMs);
  const observation: HttpObservation = {
    transport: "http", status: undefined, contentType: "", requestId: undefined, events: [], text: undefined, endedBy, durationMs: 0,
  };
  const leave = () => {
    if (endedBy !== "complete") return;
    endedBy = "client-left";
    observation.leftAt = Date.now();
    controller.abort();
  };
  const abort = options.abort;
  const leaveTimer = abort && "afterMs" in abort ? setTimeout(leave, abort.afterMs) : undefined;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    observation.status = response.status;
    observation.contentType = response.headers.get("content-type") ?? "";
    observation.requestId = response.headers.get("x-turnpike-request-id") ?? response.headers.get("request-id") ?? undefined;
    if (observation.contentType.includes("text/event-stream") && response.body) {
      await readEvents(response.body, observation.events, () => {
        if (abort && "afterEvents" in abort && observation.events.length >= abort.afterEvents) leave();
      });
    } else {
      // A body that is not a stream: a client that leaves does so after a short wait.
      if (abort && "afterEvents" in abort) setTimeout(leave, 30 * abort.afterEvents);
      observation.text = await response.text();
    }
  } catch (error) {
    if (endedBy === "complete") {
      endedBy = "network-error";
      observation.networkError = describe(error);
    }
  } finally {
    clearTimeout(deadline);
    if (leaveTimer) clearTimeout(leaveTimer);
  }
  observation.endedBy = endedBy;
  observation.durationMs = Date.now() - started;
  return observation;
}

async function readEvents(body: ReadableStream<Uint8Array>, events: SseEvent[], onEvent: () => void): Promise<void> {
  const parser = createParser({
    onEvent: (message) => {
      events.push({ event: message.event, data: message.data });
      onEvent();
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
