/**
 * A ChatGPT account's usage windows, as its backend reports them on every answer
 * (`x-codex-primary-used-percent`, `-reset-after-seconds`, `-window-minutes`, and the same for
 * `secondary`, docs/protocol.md §4): how much of the 5-hour and weekly allowances is used and
 * when each resets. Observed on the request's way back and shared through the account-state
 * object, at most every `reportEveryMs` per account and isolate, for the operator's views.
 */
export interface QuotaWindow {
  used_percent: number;
  /** Epoch ms. */
  resets_at: number | null;
  window_minutes: number | null;
}

export interface QuotaWindows {
  primary?: QuotaWindow;
  secondary?: QuotaWindow;
  observed_at: number;
}

const reportEveryMs = 30_000;

export function quotaWindowsFrom(headers: Headers, now = Date.now()): QuotaWindows | undefined {
  const windows: QuotaWindows = { observed_at: now };
  for (const name of ["primary", "secondary"] as const) {
    const used = Number(headers.get(`x-codex-${name}-used-percent`) ?? Number.NaN);
    if (!Number.isFinite(used)) continue;
    const resetsAfter = Number(headers.get(`x-codex-${name}-reset-after-seconds`) ?? Number.NaN);
    const minutes = Number(headers.get(`x-codex-${name}-window-minutes`) ?? Number.NaN);
    windows[name] = { used_percent: used, resets_at: Number.isFinite(resetsAfter) ? now + resetsAfter * 1000 : null, window_minutes: Number.isFinite(minutes) ? minutes : null };
  }
  return windows.primary || windows.secondary ? windows : undefined;
}

/** Per isolate: when each account's windows were last shared. */
const lastReported = new Map<string, number>();

/** Whether `accountId`'s windows are due to be shared again (and notes that they are being). */
export function quotaReportDue(accountId: string, now = Date.now()): boolean {
  const last = lastReported.get(accountId) ?? 0;
  if (now - last < reportEveryMs) return false;
  if (lastReported.size > 1_000) lastReported.clear();
  lastReported.set(accountId, now);
  return true;
}
