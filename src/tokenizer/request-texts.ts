/**
 * What of a Responses request a model reads as text (instructions, texts, arguments, outputs,
 * tool definitions), and what is counted by estimate instead (images, documents): the walk
 * behind `count_tokens`, shared by the exact count (count-tokens.ts, in the tokenizer Worker)
 * and the estimate the gateway falls back to without that Worker. No tokenizer here.
 */

/** Framing tokens per item, as OpenAI's chat format counts them. */
const tokensPerItem = 4;
/** An image of typical size at `detail: auto` (OpenAI counts 85 + 170 per 512 px tile). */
const tokensPerImage = 765;

export interface RequestTexts {
  texts: string[];
  /** Tokens counted without reading text: framing, images, documents. */
  fixed: number;
  characters: number;
}

export function requestTexts(request: Record<string, unknown>): RequestTexts {
  const texts: string[] = [];
  let fixed = 0;
  if (typeof request.instructions === "string") {
    texts.push(request.instructions);
    fixed += tokensPerItem;
  }
  for (const item of Array.isArray(request.input) ? request.input : []) fixed += tokensPerItem + collectTexts(item, texts);
  if (Array.isArray(request.tools) && request.tools.length > 0) texts.push(JSON.stringify(request.tools));
  let characters = 0;
  for (const text of texts) characters += text.length;
  return { texts, fixed, characters };
}

/** About four characters a token: what the gateway answers when the tokenizer Worker is not deployed. */
export function estimateRequestTokens(request: Record<string, unknown>): number {
  const { fixed, characters } = requestTexts(request);
  return fixed + Math.ceil(characters / 4);
}

/**
 * The text a model reads in an item goes into `texts`; returns the tokens estimated without
 * reading (images, documents).
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
