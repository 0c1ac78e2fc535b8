/**
 * `POST /v1/messages/count_tokens`: a local count of the translated request with the upstream
 * models' tokenizer (o200k_base, via gpt-tokenizer). An estimate — the provider adds a few
 * tokens of framing per message and counts images by size — but a real count that grows with
 * the request, never a fixed number and never a billed model call (docs/protocol.md §5).
 *
 * Counting costs time in proportion to the text, whatever the text: byte-pair encoding one piece
 * costs more than linear in its length, and a run with no break in it (1 MiB of `x`, a base64
 * blob) is one piece. So the text is split the way the tokenizer splits it before encoding (the
 * o200k pre-tokenizer), pieces are counted a few KB at a time, and long runs in short chunks —
 * 0.02–0.12 s per MiB on this machine, where one 32 KB run took 0.8 s and 1 MiB did not finish. The
 * isolate serves other requests between chunks, and past `maxCountedCharacters` the answer is a 413.
 */
import { GatewayError } from "../../errors/gateway-error";

/** Framing tokens per item, as OpenAI's chat format counts them. */
const tokensPerItem = 4;
/** An image of typical size at `detail: auto` (OpenAI counts 85 + 170 per 512 px tile). */
const tokensPerImage = 765;
/** Longest run encoded at once: a run longer than this is counted in chunks of it. */
const maxPieceCharacters = 64;
/** Pieces are counted in batches of about this much text. */
const batchCharacters = 4096;
/** The most text counted for one request (about 2M tokens, far past any model's context). */
export const maxCountedCharacters = 8 * 1024 * 1024;
/**
 * Text counted between two pauses that let the isolate serve other requests: a few ms of work.
 * (An amount, not a clock: a Worker's clock only moves across I/O.)
 */
const charactersPerPause = 64 * 1024;

type Encoder = { countTokens(text: string): number; splitPattern: RegExp };
let encoder: Promise<Encoder> | undefined;

/** The tokenizer's tables are 2 MB: loaded on the first count, not on every cold start. */
function loadEncoder(): Promise<Encoder> {
  encoder ??= Promise.all([import("gpt-tokenizer/encoding/o200k_base"), import("gpt-tokenizer/encodingParams/constants")]).then(([module, constants]) => ({
    countTokens: (text: string) => module.countTokens(text),
    splitPattern: constants.O200K_TOKEN_SPLIT_REGEX,
  }));
  return encoder;
}

export async function countRequestTokens(request: Record<string, unknown>): Promise<number> {
  const texts: string[] = [];
  let fixed = 0;
  if (typeof request.instructions === "string") {
    texts.push(request.instructions);
    fixed += tokensPerItem;
  }
  for (const item of Array.isArray(request.input) ? request.input : []) {
    fixed += tokensPerItem;
    fixed += collectTexts(item, texts);
  }
  if (Array.isArray(request.tools) && request.tools.length > 0) texts.push(JSON.stringify(request.tools));
  let characters = 0;
  for (const text of texts) characters += text.length;
  if (characters > maxCountedCharacters) {
    throw new GatewayError("payload_too_large", `count_tokens counts at most ${maxCountedCharacters} characters of text; this request has ${characters}.`);
  }
  const counter = new ChunkedCounter(await loadEncoder());
  let total = fixed;
  for (const text of texts) total += await counter.count(text);
  return total;
}

/** Counts texts in time proportional to their length, pausing now and then for other requests. */
class ChunkedCounter {
  #sincePause = 0;

  constructor(private readonly tokenizer: Encoder) {}

  async count(text: string): Promise<number> {
    if (text.length <= maxPieceCharacters) return this.tokenizer.countTokens(text);
    let total = 0;
    let batch = "";
    for (const [piece] of text.matchAll(this.tokenizer.splitPattern)) {
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
    return this.tokenizer.countTokens(text);
  }
}

/**
 * The text a model reads in an item (texts, arguments, outputs) goes into `texts`; returns the
 * tokens estimated without reading (images, documents).
 */
function collectTexts(value: unknown, texts: string[]): number {
  if (typeof value === "string") return 0;
  if (Array.isArray(value)) {
    let estimated = 0;
    for (const entry of value) estimated += collectTexts(entry, texts);
    return estimated;
  }
  if (typeof value !== "object" || value === null) return 0;
  const record = value as Record<string, unknown>;
  if (record.type === "input_image") return tokensPerImage;
  // Encrypted reasoning is opaque base64: tokenising it would count noise, not what the model reads.
  for (const key of ["text", "arguments", "name", "output", "content"] as const) {
    const field = record[key];
    if (typeof field === "string" && field) texts.push(field);
  }
  let estimated = 0;
  for (const key of ["content", "output", "summary"] as const) if (Array.isArray(record[key])) estimated += collectTexts(record[key], texts);
  // A document's text is extracted upstream; about one token per four bytes of file is the estimate.
  if (typeof record.file_data === "string") estimated += Math.ceil((record.file_data.length * 0.75) / 4);
  return estimated;
}
