/**
 * A supervised Responses stream → the final response object, for `stream: false` clients.
 *
 * The gateway always streams from the upstream (some upstreams only stream). Some backends
 * (the ChatGPT Codex backend) send `response.completed` with an empty `output` and carry the
 * items only in `response.output_item.done` events, so `output` is rebuilt from those.
 */
import { GatewayError } from "../errors/gateway-error";
import { statusForResponseErrorCode } from "../upstream/upstream-error";
import { eventPayload, isRecord, terminalEventTypes, type ResponsesEvent } from "./responses-event";
import type { EventReader } from "./event-reader";

export async function aggregateResponse(reader: EventReader): Promise<Record<string, unknown>> {
  const items = new Map<number, unknown>();
  let terminal: ResponsesEvent | undefined;
  for (;;) {
    const { done, value: batch } = await reader.read();
    if (done) break;
    for (const event of batch) {
      if (event.type === "response.output_item.done") {
        const payload = eventPayload(event);
        const index = typeof payload.output_index === "number" ? payload.output_index : items.size;
        items.set(index, payload.item);
      } else if (terminalEventTypes.has(event.type)) {
        terminal = event;
      }
    }
  }
  const response = terminal ? eventPayload(terminal).response : undefined;
  if (!terminal || !isRecord(response)) {
    throw new GatewayError("upstream_disconnected", "The upstream stream ended without a final response.");
  }
  if (terminal.type === "response.failed") throw errorFromFailedResponse(response);
  const output = Array.isArray(response.output) ? response.output : [];
  if (output.length === 0 && items.size > 0) {
    response.output = [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  }
  return response;
}

/** A `response.failed` response → an HTTP error with the status its code implies. */
export function errorFromFailedResponse(response: Record<string, unknown>): GatewayError {
  const error = isRecord(response.error) ? response.error : {};
  const code = typeof error.code === "string" ? error.code : "server_error";
  const message = typeof error.message === "string" && error.message ? error.message : "The response failed.";
  return new GatewayError("upstream_error", message, { code, status: statusForResponseErrorCode(code) });
}
