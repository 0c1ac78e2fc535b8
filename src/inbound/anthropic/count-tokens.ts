/**
 * `POST /v1/messages/count_tokens`: a local count of the translated request with the upstream
 * models' tokenizer (o200k_base, via gpt-tokenizer). An estimate — the provider adds a few
 * tokens of framing per message and counts images by size — but a real count that grows with
 * the request, never a fixed number and never a billed model call (protocol notes §5).
 */
import { loadTokenCounter } from "../../shared/token-counter";

/** Framing tokens per item, as OpenAI's chat format counts them. */
const tokensPerItem = 4;
/** An image of typical size at `detail: auto` (OpenAI counts 85 + 170 per 512 px tile). */
const tokensPerImage = 765;

export async function countRequestTokens(request: Record<string, unknown>): Promise<number> {
  const countTokens = await loadTokenCounter();
  let total = 0;
  const count = (text: string) => {
    if (text) total += countTokens(text);
  };
  if (typeof request.instructions === "string") {
    count(request.instructions);
    total += tokensPerItem;
  }
  for (const item of Array.isArray(request.input) ? request.input : []) {
    total += tokensPerItem;
    walk(item, count, (tokens) => (total += tokens));
  }
  if (Array.isArray(request.tools) && request.tools.length > 0) count(JSON.stringify(request.tools));
  return total;
}

/** Counts the text a model reads in an item: texts, arguments, outputs; images by estimate. */
function walk(value: unknown, count: (text: string) => void, add: (tokens: number) => void): void {
  if (typeof value === "string") return;
  if (Array.isArray(value)) {
    for (const entry of value) walk(entry, count, add);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const record = value as Record<string, unknown>;
  if (record.type === "input_image") return add(tokensPerImage);
  // Encrypted reasoning is opaque base64: tokenising it would count noise, not what the model reads.
  for (const key of ["text", "arguments", "name"] as const) {
    if (typeof record[key] === "string") count(record[key] as string);
  }
  if (typeof record.output === "string") count(record.output);
  if (typeof record.content === "string") count(record.content);
  for (const key of ["content", "output", "summary"] as const) if (Array.isArray(record[key])) walk(record[key], count, add);
  // A document's text is extracted upstream; about one token per four bytes of file is the estimate.
  if (typeof record.file_data === "string") add(Math.ceil((record.file_data.length * 0.75) / 4));
}
