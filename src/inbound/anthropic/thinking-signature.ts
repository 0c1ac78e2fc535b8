/**
 * The `signature` of the Anthropic thinking blocks the gateway makes.
 *
 * Anthropic clients treat a thinking block's signature as opaque and send the block back,
 * signature intact, on the next turn (required with tools and extended thinking). The Responses
 * upstream needs the reasoning item's `id` and `encrypted_content` back to continue the same chain
 * of thought without server-side storage (`store: false`). So the signature carries both:
 * `tpk1.` + base64url(JSON `{id, encrypted_content}`). The version prefix lets a later format be
 * told apart, and lets the inbound translator recognise (and drop) genuine Anthropic signatures,
 * which a Responses upstream could not use.
 */
import { base64UrlFromBytes, bytesFromBase64Url } from "../../shared/base64url";

const signaturePrefix = "tpk1.";

export interface ThinkingSignature {
  /** The Responses reasoning item's id (`rs_…`). */
  id: string;
  /** The reasoning item's `encrypted_content`, as the upstream sent it. */
  encryptedContent: string;
}

export function encodeThinkingSignature(signature: ThinkingSignature): string {
  const json = JSON.stringify({ id: signature.id, encrypted_content: signature.encryptedContent });
  return signaturePrefix + base64UrlFromBytes(new TextEncoder().encode(json));
}

/** The reasoning item a signature stands for, or `undefined` for any signature not made here. */
export function decodeThinkingSignature(signature: unknown): ThinkingSignature | undefined {
  if (typeof signature !== "string" || !signature.startsWith(signaturePrefix)) return undefined;
  const bytes = bytesFromBase64Url(signature.slice(signaturePrefix.length));
  if (!bytes) return undefined;
  let parsed: unknown;
  try {
    // `fatal` so that bytes which are not UTF-8 count as "not ours" instead of decoding to U+FFFD.
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const fields = parsed as Record<string, unknown>;
  if (typeof fields.id !== "string" || typeof fields.encrypted_content !== "string") return undefined;
  return { id: fields.id, encryptedContent: fields.encrypted_content };
}
