/**
 * How many cases each property runs, and how to replay a failure.
 *
 * In `npm test` every property runs its own budget (`runs`, tuned so that the whole suite adds
 * about a minute). `npm run fuzz` sets `FUZZ_RUNS` (passed in through vitest's `provide`, see
 * vitest.workers.config.ts) and every property runs that many cases, or `FUZZ_RUNS × share` for
 * the expensive ones (a case that is a request through the Worker).
 *
 * fast-check prints `seed` and `path` with a counterexample; `FUZZ_SEED` and `FUZZ_PATH` replay
 * it (docs/fuzzing.md), together with `-t` naming the property.
 */
import type fc from "fast-check";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    fuzz: { runs: string; seed: string; path: string };
  }
}

const provided = inject("fuzz");
const fuzzRuns = Number(provided.runs) || undefined;
const seed = provided.seed === "" ? undefined : Number(provided.seed);

/** True under `npm run fuzz`. */
export const fuzzing = fuzzRuns !== undefined;

/**
 * fast-check parameters for a property: `runs` cases in `npm test`, `FUZZ_RUNS × share` under
 * `npm run fuzz`; with `FUZZ_SEED` (and `FUZZ_PATH`) the one recorded run instead.
 */
export function fuzzParameters<Value>(runs: number, share = 1): fc.Parameters<Value> {
  const numRuns = fuzzRuns === undefined ? runs : Math.max(runs, Math.round(fuzzRuns * share));
  if (seed === undefined || Number.isNaN(seed)) return { numRuns };
  return { numRuns, seed, ...(provided.path ? { path: provided.path, endOnFailure: true } : {}) };
}

/** A test's timeout: `ms` in `npm test`, an hour while fuzzing. */
export function fuzzTimeout(ms: number): number {
  return fuzzing ? 3_600_000 : ms;
}
