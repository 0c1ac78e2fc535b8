/**
 * The one place that writes SSE bytes: every downstream stream goes through these encoders.
 */
const encoder = new TextEncoder();

/** One SSE frame as text. Multi-line data (legal SSE, rare in JSON) gets one `data:` line per line. */
export function serverSentEventText(type: string, data: string): string {
  const lines = data.includes("\n") ? data.split("\n").join("\ndata: ") : data;
  return `event: ${type}\ndata: ${lines}\n\n`;
}

export function encodeServerSentEvent(type: string, data: string): Uint8Array {
  return encoder.encode(serverSentEventText(type, data));
}

/** A batch of Responses events as one network write. */
export function encodeResponsesBatch(batch: readonly { type: string; data: string }[]): Uint8Array {
  let text = "";
  for (const event of batch) text += serverSentEventText(event.type, event.data);
  return encoder.encode(text);
}

/**
 * A batch of frames without `event:` lines (`data: <text>\n\n` each), as Chat Completions
 * streams are written: the event's kind is in its JSON, and `[DONE]` ends the stream.
 */
export function encodeDataOnlyBatch(batch: readonly string[]): Uint8Array {
  let text = "";
  for (const data of batch) text += `data: ${data.includes("\n") ? data.split("\n").join("\ndata: ") : data}\n\n`;
  return encoder.encode(text);
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
