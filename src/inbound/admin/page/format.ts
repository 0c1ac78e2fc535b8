/**
 * How the admin page writes numbers, money and times. Times are UTC, as the usage rows' days
 * are (usage-queries.ts buckets by UTC day), so that a bar and the rows under it agree.
 */

const counts = new Intl.NumberFormat("en-US");

/** 1234567 → "1,234,567"; nothing → "–". */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : counts.format(value);
}

/** 1234567 → "1.2M": for chart axes, where the full number does not fit. */
export function formatShort(value: number): string {
  const units: [number, string][] = [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(value) >= size) return `${trimZeros((value / size).toFixed(value / size < 10 ? 1 : 0))}${unit}`;
  }
  if (Number.isInteger(value)) return String(value);
  return trimZeros(value > 0 && value < 1 ? value.toPrecision(2) : value.toFixed(2));
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** Millionths of a dollar → "$0.0123"; small amounts keep their significant digits. */
export function formatCost(microUsd: number): string {
  const dollars = microUsd / 1_000_000;
  if (dollars === 0) return "$0";
  if (dollars < 0.01) return `$${dollars.toPrecision(2)}`;
  return `$${dollars.toFixed(dollars < 100 ? 2 : 0)}`;
}

/** Epoch ms → "2026-05-01 12:34:56" (UTC). */
export function formatTime(at: number | null | undefined): string {
  if (at === null || at === undefined) return "–";
  return new Date(at).toISOString().slice(0, 19).replace("T", " ");
}

/** Epoch ms → "05-01 12:34:56" (UTC): the recent requests, all within days of each other. */
export function formatShortTime(at: number): string {
  return new Date(at).toISOString().slice(5, 19).replace("T", " ");
}

/** Seconds → "1 h 5 m", "3 m 20 s", "45 s". */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  if (hours >= 24) return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  if (hours > 0) return `${hours} h ${minutes} m`;
  if (minutes > 0) return `${minutes} m ${whole % 60} s`;
  return `${whole} s`;
}

/** Milliseconds → "812 ms", "3.4 s". */
export function formatMilliseconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** A time ahead → "in 3 m 20 s (12:34:56)"; past or unknown → what it was. */
export function formatUntil(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return "–";
  if (at <= now) return formatTime(at);
  return `in ${formatSeconds((at - now) / 1000)} (${formatTime(at)})`;
}
