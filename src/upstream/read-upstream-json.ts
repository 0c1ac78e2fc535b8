/**
 * An upstream's JSON answer (`/responses/compact`, `/models`, a `/responses` that ignored
 * `stream: true`), read whole with the same idle limit as a stream — a body that stalls halfway
 * must not hold the client forever — and within a size bound. Text that is not JSON is the
 * upstream's failure (a 502), not the gateway's.
 */
import { GatewayError } from "../errors/gateway-error";

export interface ReadJsonOptions {
  /** Longest wait for the next chunk of the body. */
  idleTimeoutMs: number;
  maxBytes: number;
}

export async function readUpstreamJson(response: Response, options: ReadJsonOptions): Promise<unknown> {
  const text = await readUpstreamText(response, options);
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError("upstream_error", "The upstream answered with a body that is not valid JSON.", { status: 502, upstreamStatus: response.status });
  }
}

async function readUpstreamText(response: Response, options: ReadJsonOptions): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (;;) {
      const stalled = new Promise<"stalled">((resolve) => (timer = setTimeout(() => resolve("stalled"), options.idleTimeoutMs)));
      let result: ReadableStreamReadResult<Uint8Array> | "stalled";
      try {
        result = await Promise.race([reader.read(), stalled]);
      } catch (cause) {
        throw new GatewayError("upstream_disconnected", "The upstream connection broke while it was sending its answer.", { cause });
      } finally {
        clearTimeout(timer);
      }
      if (result === "stalled") {
        const seconds = Math.round(options.idleTimeoutMs / 1000);
        throw new GatewayError("upstream_idle_timeout", `The upstream stopped sending its answer for ${seconds} s.`);
      }
      if (result.done) break;
      bytes += result.value.byteLength;
      if (bytes > options.maxBytes) throw new GatewayError("upstream_error", "The upstream's answer is larger than the gateway accepts.", { status: 502 });
      parts.push(decoder.decode(result.value, { stream: true }));
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  parts.push(decoder.decode());
  return parts.join("");
}
