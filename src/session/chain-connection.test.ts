import { describe, expect, it } from "vitest";
import { eventReaderOf } from "../streams/event-reader";
import type { ResponsesSocket } from "../upstream/responses-socket";
import type { ResponsesUpstream } from "../upstream/responses-upstream";
import { ChainConnection } from "./chain-connection";
import type { ChainStore } from "./chain-store";

function fakeSocket(name: string, openedAt = Date.now()): ResponsesSocket & { closed: boolean; name: string } {
  return {
    name,
    openedAt,
    closed: false,
    get isOpen() {
      return !this.closed;
    },
    upgradeHeaders: new Headers({ "x-name": name }),
    create: () => eventReaderOf([]),
    close() {
      this.closed = true;
    },
  };
}

function upstreamOpening(opening: Promise<ResponsesSocket> | (() => Promise<ResponsesSocket>)): ResponsesUpstream {
  return { kind: "openai", secrets: [], send: () => Promise.reject(new Error("unused")), openSocket: typeof opening === "function" ? opening : () => opening };
}

const counter = (): ChainStore => {
  let value = 0;
  return { increment: () => ++value } as unknown as ChainStore;
};

describe("a chain's upstream connection", () => {
  it("an opening belongs to its account: a turn failed over to another account never gets it", async () => {
    const connection = new ChainConnection(counter(), { maxLifetimeMs: 60_000, openTimeoutMs: 1_000 });
    let openA!: (socket: ResponsesSocket) => void;
    const socketA = fakeSocket("a");
    const pendingA = connection.socketFor(upstreamOpening(new Promise((resolve) => (openA = resolve))), "account-a", new Headers());
    const socketB = fakeSocket("b");
    const gotB = await connection.socketFor(upstreamOpening(Promise.resolve(socketB)), "account-b", new Headers());
    expect(gotB).toBe(socketB);
    openA(socketA);
    await pendingA;
    // A's late socket is not adopted; B's stays the chain's.
    expect(socketA.closed).toBe(true);
    expect(await connection.socketFor(upstreamOpening(() => Promise.reject(new Error("no new opening"))), "account-b", new Headers())).toBe(socketB);
    expect(connection.upgradeHeaders?.get("x-name")).toBe("b");
  });

  it("a socket past its lifetime is replaced, and each socket gets a new generation", async () => {
    const connection = new ChainConnection(counter(), { maxLifetimeMs: 1_000, openTimeoutMs: 1_000 });
    const old = fakeSocket("old", Date.now() - 5_000);
    await connection.socketFor(upstreamOpening(Promise.resolve(old)), "a", new Headers());
    const first = connection.generation;
    const fresh = fakeSocket("fresh");
    expect(await connection.socketFor(upstreamOpening(Promise.resolve(fresh)), "a", new Headers())).toBe(fresh);
    expect(old.closed).toBe(true);
    expect(connection.generation).toBe(first + 1);
    connection.close("done");
    expect(connection.generation).toBe(0);
    expect(fresh.closed).toBe(true);
  });
});
