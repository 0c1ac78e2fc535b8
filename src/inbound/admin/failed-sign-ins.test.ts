import { describe, expect, it } from "vitest";
import { addressGroup, lockedForSeconds, maxFailures, signInWindowMs } from "./failed-sign-ins";

describe("failed sign-ins", () => {
  it("an address is locked from its tenth failure in the window until the oldest of those ten leaves it", () => {
    const start = 1_000_000;
    const times = Array.from({ length: maxFailures }, (_, index) => start + index * 1000).reverse();
    expect(lockedForSeconds(times.slice(1), start + 9_000)).toBe(0);
    expect(lockedForSeconds(times, start + 9_000)).toBe(Math.ceil((signInWindowMs - 9_000) / 1000));
    // The first failure leaves the window: nine remain, the address may try again.
    expect(lockedForSeconds(times, start + signInWindowMs + 1)).toBe(0);
  });

  it("counts IPv6 clients by their /64, IPv4 by the address", () => {
    expect(addressGroup("203.0.113.9")).toBe("203.0.113.9");
    expect(addressGroup("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("2001:DB8:0:0:1::")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("")).toBe("unknown");
  });
});
