/**
 * The Responses SSE answer in one loop: read the upstream, supervise (exactly one terminal
 * event, failures as `response.failed`), encode, write — without a JavaScript stream between
 * supervision and the response body (measured: ~1 ms per request, docs/performance.md).
 */
import { writeWithKeepalive } from "./keepalive-encoder";
import type { EventReader } from "./event-reader";
import { encodeResponsesBatch, encodeSseComment } from "./sse-writer";
import { readUpstream, Supervision, type SuperviseOptions } from "./supervise-responses-events";

export function supervisedResponsesSse(
  reader: EventReader,
  options: SuperviseOptions & { keepaliveIntervalMs: number },
): ReadableStream<Uint8Array> {
  const supervision = new Supervision(options, (reason) => void reader.cancel(reason).catch(() => {}));
  return writeWithKeepalive(
    {
      async next() {
        const { batch, ended } = supervision.step(await readUpstream(reader, supervision.idle));
        return { bytes: batch.length > 0 ? encodeResponsesBatch(batch) : undefined, last: ended };
      },
      cancel(reason) {
        supervision.cancelled();
        reader.cancel(reason).catch(() => {});
      },
    },
    { keepalive: () => encodeSseComment("keepalive"), intervalMs: options.keepaliveIntervalMs },
  );
}
