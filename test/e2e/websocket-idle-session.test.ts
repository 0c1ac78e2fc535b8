// A session object that holds client WebSockets (hibernation API) and nothing else — no upstream
// socket, no timer — keeps those sockets between turns. The chaos soak found sockets closed with
// 1006 right after such a turn: a refused upstream reconnect (the WebSocket path), or any turn
// over HTTP. The object had kept itself awake only with a promise another object created (the
// isolate's usage batch), and workerd breaks an idle object when such a promise settles
// (docs/reliability.md, "Promises never cross request contexts").
//
// Several sessions end a turn at the same moment, so their usage rows share one batch window;
// keepalives are off so that no interval timer keeps an object awake past its turn.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { userMessage } from "../support/codex-like";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startGateway, type Gateway } from "../support/start-gateway";
import { connectResponsesSocket, type ResponsesSocketClient } from "../support/ws-client";

const key = "gw-idle-key-0123456789";
const sessions = 8;
/** Past the usage batch's 50 ms and its D1 write: the batch has settled when the next turn comes. */
const pauseMs = 600;

let run = 0;

interface OpenSession {
  client: ResponsesSocketClient;
  closeCodes: number[];
}

async function openSessions(gateway: Gateway): Promise<OpenSession[]> {
  run += 1;
  const url = `${gateway.url.replace(/^http/, "ws")}/v1/responses`;
  return Promise.all(
    Array.from({ length: sessions }, async (_, index) => {
      const client = await connectResponsesSocket(url, { authorization: `Bearer ${key}`, "session-id": `idle-${Date.now()}-${run}-${index}` });
      const closeCodes: number[] = [];
      client.socket.on("close", (code) => closeCodes.push(code));
      return { client, closeCodes };
    }),
  );
}

/** Every session sends one turn at once; the types of the frames that ended them. */
async function turnOfAll(open: OpenSession[], text: string): Promise<string[]> {
  const ends = await Promise.all(open.map(async ({ client }) => (await client.create({ model: "gpt-5.5", input: [userMessage(text)] })).at(-1)!.type));
  return ends.map(String);
}

const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));

describe.each([
  { transport: "http", refusedFirst: false },
  { transport: "websocket", refusedFirst: true },
])("sessions reaching the upstream over $transport", ({ transport, refusedFirst }) => {
  let upstream: FakeUpstream;
  let gateway: Gateway;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gateway = await startGateway({ UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-up", GATEWAY_KEYS: key, UPSTREAM_TRANSPORT: transport, WEBSOCKET_KEEPALIVE: "off" });
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.reset();
    upstream.setUpgradeStatus(null);
  });

  it(refusedFirst ? "keep their client sockets after a turn whose upstream upgrade was refused" : "keep their client sockets between turns", async () => {
    // Refused: the session is left without an upstream socket, as after the soak's refuse-upgrade.
    if (refusedFirst) upstream.setUpgradeStatus(500);
    const open = await openSessions(gateway);
    try {
      expect(await turnOfAll(open, "one")).toEqual(Array(sessions).fill(refusedFirst ? "error" : "response.completed"));
      upstream.setUpgradeStatus(null);
      await pause();
      expect(open.flatMap(({ closeCodes }) => closeCodes)).toEqual([]);
      expect(await turnOfAll(open, "two")).toEqual(Array(sessions).fill("response.completed"));
    } finally {
      await Promise.all(open.map(({ client }) => client.close()));
    }
  });
});
