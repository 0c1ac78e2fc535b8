/**
 * How Responses events travel inside the gateway: batches pulled by one consumer through a
 * reader (`read`, `cancel`), not through `ReadableStream`s. Every JavaScript stream stage costs
 * a trip through the runtime per chunk — a `TransformStream` between the upstream body and the
 * supervisor alone cost ~0.4 ms per request (docs/performance.md) — and no stage needs more
 * than read and cancel. A `ReadableStreamDefaultReader<EventBatch>` is an `EventReader`, so a
 * stream still fits where one is natural (the upstream socket's queue).
 *
 * Events travel in batches: those that arrived in one network chunk stay together all the way
 * to the client, so the gateway never splits what the upstream sent at once into many small
 * writes, and never holds back an event to wait for more.
 */
import type { ResponsesEvent } from "./responses-event";

export type EventBatch = ResponsesEvent[];

export interface PullReader<Value> {
  read(): Promise<ReadableStreamReadResult<Value>>;
  /** The consumer is done: the source lets go of what it reads from (an upstream request). */
  cancel(reason?: unknown): Promise<void>;
}

export type EventReader = PullReader<EventBatch>;

const done = { done: true, value: undefined } as const;

/** Fixed batches (a replayed response object, the in-process mock). */
export function eventReaderOf(batches: EventBatch[]): EventReader {
  const queue = [...batches];
  return {
    read: async () => {
      const value = queue.shift();
      return value ? { done: false, value } : done;
    },
    cancel: async () => {
      queue.length = 0;
    },
  };
}

export interface ReaderMapping<In, Out> {
  /** Each value read; an empty result (`undefined`) is skipped. */
  map(value: In): Out | undefined;
  /** After the source's last value: what is still owed, if anything. */
  finish?(): Out | undefined;
  /** The mapping decided the stream is over (a stop sequence): the source is cancelled. */
  ended?(): boolean;
}

/** A reader whose values pass through a synchronous mapping (a protocol translation, a tap). */
export function mapReader<In, Out>(source: PullReader<In>, mapping: ReaderMapping<In, Out>): PullReader<Out> {
  let finished = false;
  return {
    async read() {
      while (!finished) {
        if (mapping.ended?.()) {
          finished = true;
          source.cancel("ended").catch(() => {});
          break;
        }
        const result = await source.read();
        if (result.done) {
          finished = true;
          const last = mapping.finish?.();
          if (last !== undefined) return { done: false, value: last };
          break;
        }
        const value = mapping.map(result.value);
        if (value !== undefined) return { done: false, value };
      }
      return done;
    },
    cancel(reason) {
      finished = true;
      return source.cancel(reason);
    },
  };
}
