// A client's WebSocket is answered uncompressed (wrangler.toml, no_web_socket_compression): Codex
// offers permessage-deflate, and deflating every event costs the gateway more CPU per turn than
// the bytes are worth (docs/performance.md). Checked on the gateway's own socket: Miniflare's
// entry Worker, which `npm start` and the other tests go through, negotiates compression by its
// own flags, so only there does the gateway's handshake reach the client as when deployed.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startInMiniflare, type MiniflareGateway } from "../support/start-miniflare";
import { connectResponsesSocket } from "../support/ws-client";

let upstream: FakeUpstream;
let gateway: MiniflareGateway;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(new URL("../../wrangler.toml", import.meta.url).pathname, { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-compression" }, { directSocket: true });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

const codexOffer = { "sec-websocket-extensions": "permessage-deflate; client_max_window_bits", "session-id": "compression-test" };

it("declines a client's permessage-deflate offer, and the turn is answered", async () => {
  const client = await connectResponsesSocket(`${gateway.directUrl!.replace(/^http/, "ws")}/v1/responses`, codexOffer);
  try {
    expect(client.upgradeHeaders["sec-websocket-extensions"]).toBeUndefined();
    expect(client.socket.extensions).toBe("");
    const events = await client.create({ type: "response.create", model: "gpt-5.5", input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hello" }] }] });
    expect(events.at(-1)?.type).toBe("response.completed");
  } finally {
    await client.close();
  }
});

it("the same offer through Miniflare's entry Worker is accepted (the offer is one a server can take)", async () => {
  const client = await connectResponsesSocket(`${gateway.url.replace(/^http/, "ws")}/v1/responses`, { ...codexOffer, "session-id": "compression-test-entry" });
  try {
    expect(client.socket.extensions).toContain("permessage-deflate");
  } finally {
    await client.close();
  }
});
