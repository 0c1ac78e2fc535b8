/**
 * Events → downstream bytes, with a keepalive frame whenever nothing was written for an
 * interval (protocol notes §6: proxies cut idle streams at 60–125 s; reasoning can be silent
 * longer). Pull-based, so a slow client applies backpressure all the way to the upstream, and a
 * client that goes away cancels the source at once.
 */
export interface KeepaliveEncoderOptions<Event> {
  encode(event: Event): Uint8Array;
  keepalive(): Uint8Array;
  intervalMs: number;
}

export function encodeWithKeepalive<Event>(
  source: ReadableStream<Event>,
  options: KeepaliveEncoderOptions<Event>,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let lastWrite = Date.now();
  let waitingOnSource = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        timer = setInterval(() => {
          // Only while the client waits on the source; when the client itself is slow, no pull runs.
          if (!waitingOnSource || Date.now() - lastWrite < options.intervalMs) return;
          lastWrite = Date.now();
          controller.enqueue(options.keepalive());
        }, Math.max(50, Math.floor(options.intervalMs / 3)));
      },
      async pull(controller) {
        try {
          waitingOnSource = true;
          const result = await reader.read();
          waitingOnSource = false;
          if (result.done) {
            stop();
            controller.close();
            return;
          }
          lastWrite = Date.now();
          controller.enqueue(options.encode(result.value));
        } catch (error) {
          stop();
          controller.error(error);
        }
      },
      cancel(reason) {
        stop();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
