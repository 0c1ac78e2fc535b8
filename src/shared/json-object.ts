/** Parsing a client's JSON body, shared by the inbound routes and the session object. */
import { GatewayError } from "../errors/gateway-error";
import { isRecord } from "../streams/responses-event";

/** A request body's text as a JSON object, or a 400 that says what is wrong with it. */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (!text.trim()) throw new GatewayError("invalid_request", "The request body is empty; send a JSON object.");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GatewayError("invalid_request", "The request body is not valid JSON.");
  }
  if (!isRecord(body)) throw new GatewayError("invalid_request", "The request body must be a JSON object.");
  return body;
}
