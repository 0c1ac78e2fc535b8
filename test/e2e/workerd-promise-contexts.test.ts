// The workerd behaviour the usage recorder works around (docs/reliability.md, "Promises never
// cross request contexts"), in plain workerd with no gateway: a Durable Object that holds only a
// hibernatable client socket, and whose last wait is a `ctx.waitUntil` of a promise another
// object made, is broken when that promise settles — its socket closes with 1006. With a promise
// of its own, or awaiting the other's promise in its handler, it keeps the socket.
//
// If the first case starts keeping its socket, workerd was fixed: the rule can be relaxed.
import { Miniflare } from "miniflare";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

const script = `
import { DurableObject } from "cloudflare:workers";
/** Made by the "maker" object, waited on by others: module state is shared by the isolate. */
let shared = Promise.resolve();
export class Room extends DurableObject {
  async fetch(request) {
    if (new URL(request.url).pathname === "/make") {
      shared = new Promise((resolve) => setTimeout(resolve, 150));
      this.ctx.waitUntil(shared);
      return new Response("made");
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(socket, message) {
    if (message === "wait-until-other") this.ctx.waitUntil(shared);
    if (message === "wait-until-own") this.ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 20)));
    if (message === "await-other") await shared;
    socket.send("done");
  }
}
export default {
  fetch: (request, env) => env.ROOMS.get(env.ROOMS.idFromName(new URL(request.url).searchParams.get("name"))).fetch(request),
};`;

let miniflare: Miniflare;
let url: string;
let rooms = 0;

beforeAll(async () => {
  miniflare = new Miniflare({
    modules: true,
    script,
    compatibilityDate: "2026-04-20",
    durableObjects: { ROOMS: "Room" },
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.resume();
      stderr.resume();
    },
  });
  url = (await miniflare.ready).toString().replace(/\/$/, "");
});
afterAll(() => miniflare?.dispose());

/** One follower object: does `how`, waits past the maker's promise, and says whether its socket is still open. */
async function keepsItsSocket(how: string): Promise<boolean> {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/?name=follower-${rooms++}`);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let closedWith: number | undefined;
  socket.on("close", (code) => (closedWith = code));
  await (await fetch(`${url}/make?name=maker`)).text();
  const answered = new Promise((resolve) => socket.once("message", resolve).once("close", resolve));
  socket.send(how);
  await answered;
  // The maker's promise (150 ms) settles well within this, however loaded the machine; a broken
  // object's socket closes soon after.
  for (let waited = 0; closedWith === undefined && waited < 1_500; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  const open = closedWith === undefined;
  socket.close();
  return open;
}

describe("workerd 1.20260426: waiting on another Durable Object's promise", () => {
  it("breaks an object whose last wait is a waitUntil of it (its hibernatable socket closes)", async () => {
    const kept: boolean[] = [];
    for (let round = 0; round < 3; round++) kept.push(await keepsItsSocket("wait-until-other"));
    expect(kept).toEqual([false, false, false]);
  });

  it("leaves an object alone that waits on a promise of its own, or awaits the other's in its handler", async () => {
    expect(await keepsItsSocket("wait-until-own")).toBe(true);
    expect(await keepsItsSocket("await-other")).toBe(true);
  });
});
