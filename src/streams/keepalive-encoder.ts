/**
 * Bytes for the client, with a keepalive frame whenever nothing was written for an interval
 * (docs/protocol.md §6: proxies cut idle streams at 60–125 s; reasoning can be silent longer).
 *
 * One loop pulls from the source and writes into a runtime-native `IdentityTransformStream`
 * where workerd has one, so that the runtime pumps the response body itself instead of pulling
 * a chain of JavaScript streams (each stage costs a round through the runtime per chunk; see
 * docs/performance.md). Writes are awaited, so a slow client applies backpressure all the way to
 * the upstream; a client that goes away fails the write, which cancels the source at once.
 */
import type { PullReader } from "./event-reader";

export interface ChunkSource {
  /** The next bytes to write (if any), and whether they are the last. */
  next(): Promise<{ bytes: Uint8Array | undefined; last: boolean }>;
  cancel(reason: unknown): void;
}

export interface KeepaliveOptions {
  keepalive(): Uint8Array;
  intervalMs: number;
}

interface ByteChannel {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

function byteChannel(): ByteChannel {
  const native = (globalThis as { IdentityTransformStream?: new () => ByteChannel }).IdentityTransformStream;
  return native ? new native() : new TransformStream<Uint8Array, Uint8Array>();
}

export function writeWithKeepalive(source: ChunkSource, options: KeepaliveOptions): ReadableStream<Uint8Array> {
  const channel = byteChannel();
  const writer = channel.writable.getWriter();
  let lastWrite = Date.now();
  let waitingOnSource = false;
  let finished = false;

  const timer = setInterval(
    () => {
      // Only while the client waits on the source; when the client itself is slow, we are
      // blocked in a write instead.
      if (finished || !waitingOnSource || Date.now() - lastWrite < options.intervalMs) return;
      lastWrite = Date.now();
      // A keepalive that cannot be written means the client is gone: while the upstream is
      // silent this is the only write, so it must stop the upstream too, not wait for its next event.
      writer.write(options.keepalive()).catch((error: unknown) => stop(error));
    },
    Math.max(50, Math.floor(options.intervalMs / 3)),
  );

  const stop = (error: unknown) => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    source.cancel(error);
    writer.abort(error).catch(() => {});
  };

  // The client cancelled the body (it went away): noticed at once, even while nothing is written.
  writer.closed.catch((error: unknown) => stop(error));

  const pump = async () => {
    try {
      for (;;) {
        waitingOnSource = true;
        const { bytes, last } = await source.next();
        waitingOnSource = false;
        if (bytes) {
          lastWrite = Date.now();
          await writer.write(bytes);
        }
        if (last) break;
      }
      finished = true;
      await writer.close();
    } catch (error) {
      // The client went away (write failed) or the source broke: stop both sides.
      stop(error);
    } finally {
      clearInterval(timer);
    }
  };
  void pump();
  return channel.readable;
}

/** A stream of events, each batch encoded as one write. */
export function encodeWithKeepalive<Event>(
  reader: PullReader<Event>,
  options: KeepaliveOptions & { encode(event: Event): Uint8Array },
): ReadableStream<Uint8Array> {
  return writeWithKeepalive(
    {
      async next() {
        const result = await reader.read();
        return result.done ? { bytes: undefined, last: true } : { bytes: options.encode(result.value), last: false };
      },
      cancel: (reason) => void reader.cancel(reason).catch(() => {}),
    },
    options,
  );
}
