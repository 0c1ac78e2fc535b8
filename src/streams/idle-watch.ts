/**
 * Fires once when nothing happened for `limitMs`. One timer for the whole stream, re-armed only
 * when it fires early, so that the hot path (`touch` per event) allocates nothing.
 */
export class IdleWatch {
  readonly expired: Promise<"idle">;
  #last = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: (value: "idle") => void = () => {};

  constructor(readonly limitMs: number) {
    this.expired = new Promise((resolve) => (this.#resolve = resolve));
    this.#arm(limitMs);
  }

  touch(): void {
    this.#last = Date.now();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => {
      const quietFor = Date.now() - this.#last;
      if (quietFor >= this.limitMs) this.#resolve("idle");
      else this.#arm(this.limitMs - quietFor);
    }, delayMs);
  }
}
