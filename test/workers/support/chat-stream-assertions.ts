// Assertions on Chat Completions stream frames, shared by the translator's tests.
import { expect } from "vitest";
import type { ChatStreamFrame } from "../../../src/inbound/chat-completions/convert-responses-stream";

export type Chunk = Record<string, unknown> & { choices: { delta: Record<string, unknown>; finish_reason: string | null }[] };

export const chunksOf = (frames: ChatStreamFrame[]): Chunk[] => frames.filter((frame): frame is Chunk => frame !== "[DONE]" && "choices" in frame);
export const deltasOf = (frames: ChatStreamFrame[]): Record<string, unknown>[] => chunksOf(frames).flatMap((chunk) => chunk.choices.map((choice) => choice.delta));

/**
 * One stable id and created; the role first; exactly one choice chunk with a finish_reason,
 * the last choice chunk; then the usage chunk if asked for; then [DONE] — or one error frame
 * last and no [DONE].
 */
export function expectWellFormed(frames: ChatStreamFrame[], { includeUsage, model }: { includeUsage: boolean; model: string }): void {
  const last = frames.at(-1);
  const errors = frames.filter((frame) => frame !== "[DONE]" && "error" in frame);
  if (last !== "[DONE]") {
    expect(errors).toHaveLength(1);
    expect(last).toBe(errors[0]);
    expect(frames).not.toContain("[DONE]");
    expect(chunksOf(frames).filter((chunk) => chunk.choices.some((choice) => choice.finish_reason !== null))).toHaveLength(0);
  } else {
    expect(errors).toHaveLength(0);
    expect(frames.filter((frame) => frame === "[DONE]")).toHaveLength(1);
    const chunks = chunksOf(frames);
    const choiceChunks = chunks.filter((chunk) => chunk.choices.length > 0);
    const finishes = choiceChunks.filter((chunk) => chunk.choices[0]!.finish_reason !== null);
    expect(finishes).toHaveLength(1);
    expect(choiceChunks.at(-1)).toBe(finishes[0]);
    const afterFinish = chunks.slice(chunks.indexOf(finishes[0]!) + 1);
    expect(afterFinish).toHaveLength(includeUsage ? 1 : 0);
    if (includeUsage) expect(afterFinish[0]).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) } });
  }
  const chunks = chunksOf(frames);
  if (chunks.length > 0) {
    expect(chunks[0]!.choices[0]?.delta.role).toBe("assistant");
    for (const chunk of chunks) expect(chunk).toMatchObject({ id: chunks[0]!.id, created: chunks[0]!.created, model, object: "chat.completion.chunk" });
    expect(chunks[0]!.id).toMatch(/^chatcmpl-/);
  }
}

