/** Parsing a client's JSON body, shared by the inbound routes and the session object. */
import { GatewayError } from "../errors/gateway-error";
import { isRecord } from "../streams/responses-event";

/**
 * Deepest nesting a client may send. Real requests nest a few dozen levels at most (tool JSON
 * schemas); `JSON.parse` accepts thousands, but everything after it that recurses —
 * `JSON.stringify`, structural comparison, translators — would overflow the stack on them.
 */
export const maxJsonDepth = 100;

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
  assertJsonDepth(body);
  return body;
}

/** A 400 when `value` nests deeper than `maxJsonDepth`. Iterative, so the check itself cannot overflow. */
export function assertJsonDepth(value: unknown, limit = maxJsonDepth): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth > limit) {
      throw new GatewayError("invalid_request", `The request body nests deeper than ${limit} levels.`);
    }
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
}
