/**
 * One chain's upstream WebSocket: opened for one account, used by one turn at a time, replaced
 * past its lifetime, and never reused while its last response may still be in flight (the socket
 * closes itself then, see responses-socket.ts). Each connection gets a generation number, unique
 * in the session and kept in storage, so that a response id is only ever chained on the
 * connection that holds it (with `store: false` ids are connection-local, docs/protocol.md §2).
 *
 * An opening belongs to its account: a turn that failed over to another account never gets the
 * first account's socket.
 */
import type { ResponsesSocket } from "../upstream/responses-socket";
import type { ResponsesUpstream } from "../upstream/responses-upstream";
import type { ChainStore } from "./chain-store";

export class ChainConnection {
  #socket: ResponsesSocket | undefined;
  #socketAccount: string | undefined;
  #opening: { accountId: string; promise: Promise<ResponsesSocket> } | undefined;
  /** The generation of the open socket; 0 when there is none. */
  #generation = 0;

  constructor(
    private readonly store: ChainStore,
    private readonly limits: { maxLifetimeMs: number; openTimeoutMs: number },
  ) {}

  get generation(): number {
    return this.#socket?.isOpen ? this.#generation : 0;
  }

  /** When the open socket was opened; undefined when there is none. */
  get openedAt(): number | undefined {
    return this.#socket?.isOpen ? this.#socket.openedAt : undefined;
  }

  get upgradeHeaders(): Headers | undefined {
    return this.#socket?.isOpen ? this.#socket.upgradeHeaders : undefined;
  }

  /** The socket for a turn on `accountId`: the open one when it is usable, else a new one. */
  async socketFor(upstream: ResponsesUpstream, accountId: string, headers: Headers): Promise<ResponsesSocket> {
    const socket = this.#socket;
    if (socket?.isOpen && this.#socketAccount === accountId && Date.now() - socket.openedAt < this.limits.maxLifetimeMs) return socket;
    const opening = this.#opening;
    if (opening?.accountId === accountId) return opening.promise;
    this.close(socket?.isOpen && this.#socketAccount === accountId ? "lifetime reached" : "replaced");
    const promise = upstream.openSocket(headers, this.limits.openTimeoutMs).then((opened) => {
      if (this.#opening?.promise !== promise) {
        // Superseded while it opened (closed, or another account's turn): not ours to keep.
        opened.close(1000, "superseded");
        return opened;
      }
      this.#opening = undefined;
      this.#socket = opened;
      this.#socketAccount = accountId;
      this.#generation = this.store.increment("connection_generation");
      return opened;
    });
    this.#opening = { accountId, promise };
    promise.catch(() => {
      if (this.#opening?.promise === promise) this.#opening = undefined;
    });
    return promise;
  }

  /** Closes the socket (idle, lifetime, eviction, account change); the next turn opens another. */
  close(reason: string): void {
    this.#opening = undefined;
    this.#socket?.close(1000, reason);
    this.#socket = undefined;
    this.#generation = 0;
  }
}
