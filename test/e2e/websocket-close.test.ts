// Closing a client WebSocket, byte for byte: every close frame a client sends is answered at
// once (RFC 6455 §5.5.1), invalid ones with 1002. Raw TCP, because client libraries refuse to
// send the invalid frames; straight to workerd (Miniflare), with no proxy between.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInMiniflare } from "../support/start-miniflare";
import type { Gateway } from "../support/start-gateway";

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startInMiniflare(new URL("../../wrangler.toml", import.meta.url).pathname, { GATEWAY_KEYS: "close-test-key", WEBSOCKET_KEEPALIVE: "off" });
});
afterAll(async () => {
  await gateway?.close();
});

/** A masked client frame (RFC 6455 §5.2). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

function code(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}

async function openSocket(): Promise<{ socket: Socket; received: () => Buffer }> {
  const { hostname, port } = new URL(gateway.url);
  const socket = connect(Number(port), hostname);
  await new Promise((resolve) => socket.once("connect", resolve));
  const chunks: Buffer[] = [];
  socket.on("data", (data) => chunks.push(data));
  socket.write(
    `GET /v1/responses HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer close-test-key\r\n\r\n`,
  );
  const started = Date.now();
  while (!Buffer.concat(chunks).includes("\r\n\r\n") && Date.now() - started < 5_000) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(Buffer.concat(chunks).subarray(0, 12).toString()).toBe("HTTP/1.1 101");
  return {
    socket,
    received: () => {
      const all = Buffer.concat(chunks);
      return all.subarray(all.indexOf("\r\n\r\n") + 4);
    },
  };
}

describe("a client's close frame", () => {
  it.each([
    ["no status code", 1000, Buffer.alloc(0)],
    ["1000", 1000, code(1000)],
    ["4000 (an application's own)", 4000, code(4000)],
    ["999 (invalid)", 1002, code(999)],
    ["1006 on the wire (reserved)", 1002, code(1006)],
    ["5000 (invalid)", 1002, code(5000)],
    // The runtime reports these as 1005, like a close without a code: answered like one.
    ["1005 on the wire", 1000, code(1005)],
    ["a 1-byte payload", 1000, Buffer.from([3])],
  ])("%s → answered at once with %i, and the connection ends", async (_name, answer, payload) => {
    const { socket, received } = await openSocket();
    const started = Date.now();
    socket.write(clientFrame(8, payload));
    const closed = await Promise.race([
      new Promise<boolean>((resolve) => socket.once("close", () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000)),
    ]);
    socket.destroy();
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    const frame = received();
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(answer);
  });
});
