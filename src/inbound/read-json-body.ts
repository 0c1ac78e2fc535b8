/**
 * Reads a client's JSON body within the size limit. Long Codex sessions send megabytes, so the
 * default limit is generous (32 MiB); a body over it is refused before it is all read.
 */
import { GatewayError } from "../errors/gateway-error";
import { parseJsonObject } from "../shared/json-object";

export interface JsonBody {
  body: Record<string, unknown>;
  /** The text as received, forwarded as-is when nothing needs changing. */
  text: string;
  /**
   * The bytes as received, when the body was read whole (a declared length, uncompressed):
   * forwarded instead of the text, the runtime need not encode it to UTF-8 again — ~1 M
   * instructions for a 46 KB Codex body, whose one non-Latin-1 character makes the text two-byte
   * (docs/performance.md).
   */
  bytes?: Uint8Array;
}

export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
  const { text, bytes } = await readBody(request, maxBytes);
  return { body: parseJsonObject(text), text, ...(bytes ? { bytes } : {}) };
}

/** The body as text (decompressed), within the size limit. */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  return (await readBody(request, maxBytes)).text;
}

async function readBody(request: Request, maxBytes: number): Promise<{ text: string; bytes?: Uint8Array }> {
  const encoding = assertReadableBody(request.headers, maxBytes);
  let stream = request.body;
  if (encoding) stream = stream?.pipeThrough(new DecompressionStream(encoding)) ?? null;
  if (!stream) return { text: "" };
  return stream === request.body && request.headers.has("content-length") ? readDeclared(request) : { text: await readText(stream, maxBytes) };
}

/**
 * What the headers alone say about a body: too large by its declared length (413), or in an
 * encoding not read here (415). Returns the compression to undo, if any. Checked before a body is
 * handed on unread (to a session object), so that a refusal never leaves it unread mid-pipe.
 */
export function assertReadableBody(headers: Headers, maxBytes: number): "gzip" | "deflate" | undefined {
  const declared = Number(headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const encoding = headers.get("content-encoding")?.trim().toLowerCase();
  if (!encoding || encoding === "identity") return undefined;
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new GatewayError("unsupported_media_type", `Content-Encoding '${encoding.slice(0, 40)}' is not supported; send the body uncompressed, or gzip/deflate.`);
  }
  return encoding;
}

/**
 * A body whose length was declared (and checked above) is read by the runtime in one call: the
 * runtime holds it to that length, and a JavaScript read loop cost ~0.5 ms per Codex request.
 */
async function readDeclared(request: Request): Promise<{ text: string; bytes: Uint8Array }> {
  try {
    const bytes = new Uint8Array(await request.arrayBuffer());
    return { text: utf8.decode(bytes), bytes };
  } catch {
    throw new GatewayError("invalid_request", "The request body could not be read (bad encoding or the client went away).");
  }
}

async function readText(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      parts.push(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError("invalid_request", "The request body could not be read (bad encoding or the client went away).");
  }
  parts.push(decoder.decode());
  return parts.join("");
}

const utf8 = new TextDecoder();

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError("payload_too_large", `The request body is larger than the gateway's limit of ${maxBytes} bytes (MAX_BODY_BYTES).`);
}
