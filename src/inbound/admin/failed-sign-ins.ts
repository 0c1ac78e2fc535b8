/**
 * Failed tries of the admin key, per client address, in a sliding window: past `maxFailures` in
 * `windowMs` an address is refused (even the right key) until the oldest of those failures
 * leaves the window, so that the key cannot be guessed at the rate a script sends requests.
 * Pure: the guard object (admin-guard-durable-object.ts) keeps the failures.
 */
export const signInWindowMs = 15 * 60_000;
export const maxFailures = 10;

/** Seconds until an address with these recent failure times (newest first) may try again; 0: now. */
export function lockedForSeconds(newestFirst: number[], now: number): number {
  const recent = newestFirst.filter((time) => time > now - signInWindowMs);
  if (recent.length < maxFailures) return 0;
  return Math.max(1, Math.ceil((recent[maxFailures - 1]! + signInWindowMs - now) / 1000));
}

/**
 * The address a failure is counted against. IPv6 clients are counted by their /64: one host
 * commonly holds a whole /64, and could otherwise try from a new address every time.
 */
export function addressGroup(address: string): string {
  const trimmed = address.trim().toLowerCase();
  if (!trimmed.includes(":")) return trimmed || "unknown";
  // An IPv4 address written as IPv6 (::ffff:203.0.113.1) is that IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(trimmed);
  if (mapped) return mapped[1]!;
  const [head = "", tail] = trimmed.split("::", 2);
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(":") : [];
  const missing = tail === undefined ? 0 : Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
