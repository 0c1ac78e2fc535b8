/**
 * The count behind `POST /v1/messages/count_tokens`: the translated request counted with the
 * upstream models' tokenizer (o200k_base, via gpt-tokenizer). An estimate — the provider adds a
 * few tokens of framing per message and counts images by size — but a real count that grows
 * with the request, never a fixed number and never a billed model call (docs/protocol.md §5).
 * It runs in the tokenizer Worker (tokenizer-worker.ts): its tables are 2.7 MB, more than
 * everything else a request loads, so they are kept off the gateway's request path.
 *
 * Counting costs time in proportion to the text, whatever the text: byte-pair encoding one piece
 * costs more than linear in its length, and a run with no break in it (1 MiB of `x`, a base64
 * blob) is one piece. So the text is split the way the tokenizer splits it before encoding (the
 * o200k pre-tokenizer), pieces are counted a few KB at a time, and long runs in short chunks —
 * 0.02–0.12 s per MiB on this machine, where one 32 KB run took 0.8 s and 1 MiB did not finish. The
 * isolate serves other requests between chunks, and past `maxCountedCharacters` the answer is a 413.
 */

import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import { requestTexts } from "./request-texts";

/** Longest run encoded at once: a run longer than this is counted in chunks of it. */
const maxPieceCharacters = 64;
/** Pieces are counted in batches of about this much text. */
const batchCharacters = 4096;
/** The most text counted for one request (about 2M tokens, far past any model's context). */
const maxCountedCharacters = 8 * 1024 * 1024;
/**
 * Text counted between two pauses that let the isolate serve other requests: a few ms of work.
 * (An amount, not a clock: a Worker's clock only moves across I/O.)
 */
const charactersPerPause = 64 * 1024;

export type TokenCount = { kind: "counted"; tokens: number } | { kind: "too_large"; characters: number; limit: number };

export async function countRequestTokens(request: Record<string, unknown>): Promise<TokenCount> {
  const { texts, fixed, characters } = requestTexts(request);
  if (characters > maxCountedCharacters) return { kind: "too_large", characters, limit: maxCountedCharacters };
  const counter = new ChunkedCounter();
  let total = fixed;
  for (const text of texts) total += await counter.count(text);
  return { kind: "counted", tokens: total };
}

/** Counts texts in time proportional to their length, pausing now and then for other requests. */
class ChunkedCounter {
  #sincePause = 0;

  async count(text: string): Promise<number> {
    if (text.length <= maxPieceCharacters) return countTokens(text);
    let total = 0;
    let batch = "";
    for (const [piece] of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
      if (piece.length <= maxPieceCharacters) {
        batch += piece;
        if (batch.length >= batchCharacters) {
          total += await this.#counted(batch);
          batch = "";
        }
        continue;
      }
      if (batch) total += await this.#counted(batch);
      batch = "";
      for (let start = 0; start < piece.length; start += maxPieceCharacters) total += await this.#counted(piece.slice(start, start + maxPieceCharacters));
    }
    if (batch) total += await this.#counted(batch);
    return total;
  }

  async #counted(text: string): Promise<number> {
    this.#sincePause += text.length;
    if (this.#sincePause >= charactersPerPause) {
      this.#sincePause = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return countTokens(text);
  }
}
