/**
 * One turn at a time per session: two turns must never interleave on one upstream socket
 * (protocol notes §2). HTTP requests wait up to a bound, then get a 409; WebSocket clients get
 * an error frame at once (`tryAcquire`).
 */
import { GatewayError } from "../errors/gateway-error";

export type Release = () => void;

export class TurnLock {
  #held = false;
  #waiters: (() => void)[] = [];

  get busy(): boolean {
    return this.#held;
  }

  tryAcquire(): Release | undefined {
    if (this.#held) return undefined;
    this.#held = true;
    return this.#releaser();
  }

  async acquire(timeoutMs: number): Promise<Release> {
    const immediate = this.tryAcquire();
    if (immediate) return immediate;
    return new Promise<Release>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        this.#held = true;
        resolve(this.#releaser());
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((entry) => entry !== waiter);
        reject(
          new GatewayError("conflict", `Another request for this session is still in progress (waited ${Math.round(timeoutMs / 1000)} s).`, {
            code: "session_busy",
            retryable: true,
          }),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held = false;
      this.#waiters.shift()?.();
    };
  }
}
