/**
 * The built-in mock's WebSocket mode, in-process: like the provider, it keeps exactly one
 * previous-response state per connection and refuses any other `previous_response_id` with
 * `previous_response_not_found`, so that the session's continuation logic runs for real
 * against the mock.
 */
import { eventFromPayload, isRecord } from "../../streams/responses-event";
import { eventReaderOf, type EventBatch, type EventReader } from "../../streams/event-reader";
import type { ResponsesSocket } from "../responses-socket";
import { mockResponseEvents } from "./mock-events";
import { decideMockReply } from "./mock-reply";
import { fingerprint } from "../../shared/fingerprint";

export class MockResponsesSocket implements ResponsesSocket {
  readonly openedAt = Date.now();
  readonly upgradeHeaders = new Headers({ "x-codex-turn-state": `mock-turn-${crypto.randomUUID()}` });
  #open = true;
  #latest: { id: string; items: unknown[] } | undefined;
  #count = 0;

  get isOpen(): boolean {
    return this.#open;
  }

  create(request: Record<string, unknown>): EventReader {
    const previous = request.previous_response_id;
    const delta = Array.isArray(request.input) ? request.input : typeof request.input === "string" ? [{ role: "user", content: request.input }] : [];
    let batch: EventBatch;
    if (typeof previous === "string" && previous !== this.#latest?.id) {
      this.#latest = undefined;
      batch = [
        eventFromPayload({
          type: "error",
          status: 400,
          error: {
            type: "invalid_request_error",
            code: "previous_response_not_found",
            message: `Previous response with id '${previous}' not found.`,
            param: "previous_response_id",
          },
        }),
      ];
    } else {
      const input = previous ? [...(this.#latest?.items ?? []), ...delta] : delta;
      batch = this.#respond({ ...request, input }, input);
    }
    return eventReaderOf([batch]);
  }

  close(): void {
    this.#open = false;
  }

  #respond(request: Record<string, unknown>, input: unknown[]): EventBatch {
    this.#count += 1;
    const seed = fingerprint(`${JSON.stringify(input)}#${this.#count}#${crypto.randomUUID()}`);
    const payloads =
      request.generate === false
        ? warmUp(request, seed)
        : mockResponseEvents({ body: request, reply: decideMockReply(request), seed, inputBytes: JSON.stringify(input).length, createdAt: Math.floor(Date.now() / 1000) });
    const completed = payloads.at(-1);
    const response = isRecord(completed?.response) ? completed.response : {};
    const output = Array.isArray(response.output) ? response.output : [];
    this.#latest = { id: String(response.id), items: [...input, ...output] };
    return payloads.map((payload) => eventFromPayload({ ...payload, type: String(payload.type) }));
  }
}

/** `generate: false`: a response id to chain from, no model output (docs/protocol.md §2). */
function warmUp(request: Record<string, unknown>, seed: string) {
  const response = {
    id: `resp_mock_${seed}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "completed",
    model: request.model,
    output: [],
    usage: { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 },
  };
  return [
    { type: "response.created", sequence_number: 0, response: { ...response, status: "in_progress" } },
    { type: "response.completed", sequence_number: 1, response },
  ];
}
