/**
 * The one place that writes SSE bytes: every downstream stream goes through these encoders.
 */
const encoder = new TextEncoder();

/** One SSE frame. Multi-line data (legal SSE, rare in JSON) gets one `data:` line per line. */
export function encodeServerSentEvent(type: string, data: string): Uint8Array {
  const lines = data.includes("\n") ? data.split("\n").join("\ndata: ") : data;
  return encoder.encode(`event: ${type}\ndata: ${lines}\n\n`);
}

/** A comment frame: ignored by every SSE client, but it keeps idle proxies from cutting us off. */
export function encodeSseComment(text: string): Uint8Array {
  return encoder.encode(`: ${text}\n\n`);
}

export const sseHeaders: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};
