/**
 * Failed tries of the admin key, per client address, in a sliding window: past `maxFailures` in
 * `windowMs` an address is refused (even the right key) until its oldest failure leaves the
 * window, so that the key cannot be guessed at the rate a script sends requests. Pure: the
 * guard object (admin-guard-durable-object.ts) keeps the book.
 *
 * Bounded: at most `maxFailures` times per address and `maxAddresses` addresses (the one whose
 * last failure is oldest goes first).
 */
export const signInWindowMs = 15 * 60_000;
export const maxFailures = 10;
const maxAddresses = 2_000;

/** Each address's recent failure times, oldest first. */
export type FailureBook = Record<string, number[]>;

/** Seconds until `address` may try again, or 0 when it may now. */
export function lockedForSeconds(book: FailureBook, address: string, now: number): number {
  const times = recent(book[address] ?? [], now);
  if (times.length < maxFailures) return 0;
  return Math.max(1, Math.ceil((times[times.length - maxFailures]! + signInWindowMs - now) / 1000));
}

/** The book with one more failure of `address` at `now` (the book is changed in place). */
export function noteFailure(book: FailureBook, address: string, now: number): FailureBook {
  const times = recent(book[address] ?? [], now);
  times.push(now);
  book[address] = times.slice(-maxFailures);
  const addresses = Object.keys(book);
  if (addresses.length > maxAddresses) {
    for (const stale of addresses) if (recent(book[stale]!, now).length === 0) delete book[stale];
    const left = Object.keys(book);
    if (left.length > maxAddresses) {
      left.sort((a, b) => book[a]!.at(-1)! - book[b]!.at(-1)!);
      for (const oldest of left.slice(0, left.length - maxAddresses)) delete book[oldest];
    }
  }
  return book;
}

function recent(times: number[], now: number): number[] {
  return times.filter((time) => time > now - signInWindowMs);
}
