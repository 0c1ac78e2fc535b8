/**
 * base64url (RFC 4648 §5) without padding: no character a client, a proxy or a cookie might
 * escape. Used for thinking signatures (anthropic/) and the admin page's flash cookie.
 */
// `btoa`/`atob` work on "binary strings" (one character per byte). `String.fromCharCode(...bytes)`
// on a whole array would overflow the argument limit for the multi-kilobyte `encrypted_content`
// of long reasoning, so bytes go in slices.
const sliceSize = 0x8000;

export function base64UrlFromBytes(bytes: Uint8Array): string {
  let binary = "";
  for (let start = 0; start < bytes.length; start += sliceSize) {
    binary += String.fromCharCode(...bytes.subarray(start, start + sliceSize));
  }
  // base64url (RFC 4648 §5) without padding: no character a client or proxy might escape.
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function bytesFromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}
