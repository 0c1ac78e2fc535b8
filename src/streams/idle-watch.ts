/**
 * Fires once when the upstream was waited on for `limitMs` without a sign of life. Only time
 * spent waiting counts (`waiting()` … `touch()`): time the consumer spends elsewhere — blocked
 * writing to a slow client — is not the upstream's silence. One timer for the whole stream,
 * re-armed only when it fires early, so that the hot path (a call per read) allocates nothing.
 */
export class IdleWatch {
  readonly expired: Promise<"idle">;
  #last = Date.now();
  #waiting = true;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: (value: "idle") => void = () => {};

  constructor(readonly limitMs: number) {
    this.expired = new Promise((resolve) => (this.#resolve = resolve));
    this.#arm(limitMs);
  }

  /** A wait on the upstream starts now (a read). */
  waiting(): void {
    this.#last = Date.now();
    this.#waiting = true;
  }

  /** The upstream answered: the wait is over until the next `waiting()`. */
  touch(): void {
    this.#last = Date.now();
    this.#waiting = false;
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => {
      const quietFor = this.#waiting ? Date.now() - this.#last : 0;
      if (quietFor >= this.limitMs) this.#resolve("idle");
      else this.#arm(this.limitMs - quietFor);
    }, delayMs);
  }
}
