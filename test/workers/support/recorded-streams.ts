/**
 * Test helpers for stream code: recorded fixtures and the same bytes re-chunked at random
 * boundaries (the way eventsource-parser's own tests do), so that no test depends on how the
 * network happened to split a stream.
 */
import type { PullReader } from "../../../src/streams/event-reader";
import text from "../../fixtures/responses-streams/text.sse?raw";
import reasoningText from "../../fixtures/responses-streams/reasoning-text.sse?raw";
import functionCallsParallel from "../../fixtures/responses-streams/function-calls-parallel.sse?raw";
import customToolCall from "../../fixtures/responses-streams/custom-tool-call.sse?raw";
import refusal from "../../fixtures/responses-streams/refusal.sse?raw";
import incompleteMaxTokens from "../../fixtures/responses-streams/incomplete-max-tokens.sse?raw";
import failed from "../../fixtures/responses-streams/failed.sse?raw";
import errorEvent from "../../fixtures/responses-streams/error-event.sse?raw";
import chatgptEmptyOutput from "../../fixtures/responses-streams/chatgpt-empty-output.sse?raw";
import webSearch from "../../fixtures/responses-streams/web-search.sse?raw";
import truncated from "../../fixtures/responses-streams/truncated.sse?raw";

export const recordedStreams = {
  text,
  reasoningText,
  functionCallsParallel,
  customToolCall,
  refusal,
  incompleteMaxTokens,
  failed,
  errorEvent,
  chatgptEmptyOutput,
  webSearch,
  truncated,
} as const;

export type RecordedStreamName = keyof typeof recordedStreams;

/** A deterministic pseudo-random generator, so a failing split can be reproduced from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

/** The text as bytes, cut at random places, including inside multi-byte characters and CRLFs. */
export function rechunk(text: string, seed: number, maxChunk = 64): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const random = seededRandom(seed);
  const chunks: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(bytes.slice(start, start + size));
    start += size;
  }
  return chunks;
}

export function streamOf<Chunk>(chunks: Chunk[]): ReadableStream<Chunk> {
  return new ReadableStream<Chunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** Everything a stream or a reader (`src/streams/event-reader.ts`) yields, in order. */
export async function collect<Chunk>(source: ReadableStream<Chunk> | PullReader<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  const reader = "getReader" in source ? source.getReader() : source;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

export async function collectText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (const chunk of await collect(stream)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}
