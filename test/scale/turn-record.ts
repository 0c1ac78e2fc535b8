// What the run keeps of each turn, and the figures it prints from them.

export interface TurnRecord {
  transport: "http" | "websocket";
  /** The session's name in this run (`http-17`, `ws-3`). */
  session: string;
  /** 1-based. */
  turn: number;
  /** performance.now() when the turn was sent. */
  startedAt: number;
  /** Until its terminal event (or its failure). */
  durationMs: number;
  /** Why the turn failed, if it did: a status, a missing terminal event, an error frame. */
  error?: string;
  status?: number;
  /** HTTP: `x-turnpike-turn`, `x-turnpike-full-reason`, `x-turnpike-chain`. */
  turnKind?: string | undefined;
  fullReason?: string | undefined;
  chain?: string | undefined;
  /** WebSocket: the response the next turn chains on. */
  responseId?: string | undefined;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarise(durations: number[]): LatencySummary {
  const sorted = [...durations].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}
