// End-to-end tests in Node: the Worker started with wrangler's `unstable_startWorker` in front of
// the fake upstream in test/support/, driven with the official `openai`, `ws` and Anthropic SDKs.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own Worker; two cores, so one file at a time keeps timings honest.
    fileParallelism: false,
    silent: "passed-only",
  },
});
