// Abortable timing helpers and the transport-independent plan runner.
import { directive, isDirective } from "./faults.js";
import type { Ending, Plan } from "./scenarios.js";

/** Resolves after ms, or at once when the signal aborts (the timer is cleared either way). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export function waitAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Waits for p, or for the signal to abort (without leaving a listener behind). */
export function raceAbort(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    p.then(done, done);
  });
}

export interface Sink {
  /** Writes one event; resolves once it has been handed to the socket. */
  send(event: any): Promise<void>;
  /** Writes bytes that are not an event (a fault); resolves once handed to the socket. */
  raw(text: string, binary: boolean): Promise<void>;
  finish(ending: Exclude<Ending, "hang">): void;
}

/** Plays a plan into a sink. Returns true if it ran to its ending, false if aborted. */
export async function runPlan(plan: Plan, sink: Sink, signal: AbortSignal): Promise<boolean> {
  for (let i = 0; i < plan.events.length; i++) {
    if (i > 0 && plan.delayMs > 0) await sleep(plan.delayMs, signal);
    if (signal.aborted) return false;
    const entry = plan.events[i];
    if (isDirective(entry)) {
      const step = entry[directive];
      if ("pauseMs" in step) await sleep(step.pauseMs, signal);
      else await raceAbort(sink.raw(step.raw, step.binary), signal);
      continue;
    }
    await raceAbort(sink.send(entry), signal);
    if (i === plan.pauseAfter && plan.pauseMs > 0) await sleep(plan.pauseMs, signal);
  }
  if (signal.aborted) return false;
  if (plan.ending === "hang") {
    await waitAbort(signal);
    return false;
  }
  sink.finish(plan.ending);
  return true;
}
