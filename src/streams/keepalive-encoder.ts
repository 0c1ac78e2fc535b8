/**
 * Events → downstream bytes, with a keepalive frame whenever nothing was written for an
 * interval (protocol notes §6: proxies cut idle streams at 60–125 s; reasoning can be silent
 * longer).
 *
 * The bytes go into a runtime-native `IdentityTransformStream` where workerd has one, so that
 * the runtime pumps the response body itself instead of pulling a JavaScript stream chunk by
 * chunk (measured: ~2 ms per request in `npm run bench`). Writes are awaited, so a slow client
 * applies backpressure all the way to the upstream; a client that goes away fails the write,
 * which cancels the source at once.
 */
export interface KeepaliveEncoderOptions<Event> {
  encode(event: Event): Uint8Array;
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

export function encodeWithKeepalive<Event>(
  source: ReadableStream<Event>,
  options: KeepaliveEncoderOptions<Event>,
): ReadableStream<Uint8Array> {
  const channel = byteChannel();
  const writer = channel.writable.getWriter();
  const reader = source.getReader();
  let lastWrite = Date.now();
  let waitingOnSource = false;
  let finished = false;

  const timer = setInterval(
    () => {
      // Only while the client waits on the source; when the client itself is slow, we are
      // blocked in a write instead.
      if (finished || !waitingOnSource || Date.now() - lastWrite < options.intervalMs) return;
      lastWrite = Date.now();
      writer.write(options.keepalive()).catch(() => {});
    },
    Math.max(50, Math.floor(options.intervalMs / 3)),
  );

  const pump = async () => {
    try {
      for (;;) {
        waitingOnSource = true;
        const result = await reader.read();
        waitingOnSource = false;
        if (result.done) break;
        lastWrite = Date.now();
        await writer.write(options.encode(result.value));
      }
      finished = true;
      await writer.close();
    } catch (error) {
      // The client went away (write failed) or the source broke: stop both sides.
      finished = true;
      reader.cancel(error).catch(() => {});
      writer.abort(error).catch(() => {});
    } finally {
      clearInterval(timer);
    }
  };
  void pump();
  return channel.readable;
}
