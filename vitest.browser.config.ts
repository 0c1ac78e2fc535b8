// The admin page in a real browser: Debian's Chromium driven by puppeteer-core against the Worker
// in workerd (D1 migrated) in front of the fake upstream. Its own run, after the end-to-end
// tests: one browser on two cores is enough.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    silent: "passed-only",
  },
});
