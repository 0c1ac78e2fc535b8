import { describe, expect, it } from "vitest";
import { lockedForSeconds, maxFailures, noteFailure, signInWindowMs, type FailureBook } from "./failed-sign-ins";

describe("failed sign-ins", () => {
  it("an address is locked from its tenth failure in the window until the oldest of those ten leaves it", () => {
    const book: FailureBook = {};
    const start = 1_000_000;
    for (let index = 0; index < maxFailures - 1; index += 1) noteFailure(book, "a", start + index * 1000);
    expect(lockedForSeconds(book, "a", start + 9_000)).toBe(0);
    noteFailure(book, "a", start + 9_000);
    expect(lockedForSeconds(book, "a", start + 9_000)).toBe(Math.ceil((signInWindowMs - 9_000) / 1000));
    expect(lockedForSeconds(book, "b", start + 9_000)).toBe(0);
    // The first failure leaves the window: nine remain, the address may try again.
    expect(lockedForSeconds(book, "a", start + signInWindowMs + 1)).toBe(0);
  });

  it("keeps at most ten times per address and a bounded number of addresses", () => {
    const book: FailureBook = {};
    for (let index = 0; index < 50; index += 1) noteFailure(book, "a", index);
    expect(book.a).toHaveLength(maxFailures);
    for (let index = 0; index < 2_500; index += 1) noteFailure(book, `address-${index}`, 100 + index);
    expect(Object.keys(book).length).toBeLessThanOrEqual(2_000);
    // The newest addresses are kept.
    expect(book["address-2499"]).toBeDefined();
  });
});
