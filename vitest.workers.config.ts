// Tests that run inside workerd: pure stream code (next to it in src/) and the Worker's routes,
// auth and configuration handling (test/workers/).
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { GATEWAY_KEYS: "test-key-1,test-key-2" } },
    }),
  ],
  test: {
    include: ["src/**/*.test.ts", "test/workers/**/*.test.ts"],
    // The Worker logs a line per request; show it only for failing tests.
    silent: "passed-only",
  },
});
