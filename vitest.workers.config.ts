// Tests that run inside workerd: pure stream code (next to it in src/) and the Worker's routes,
// auth and configuration handling (test/workers/).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";
import { fakeChatGptSeed } from "./test/support/fake-upstream/tokens.js";

const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

/** ChatGPT account seeds for test/workers/chatgpt-account.test.ts (the token endpoint is stubbed there). */
const chatGptSeeds = {
  CHATGPT_TEST_SEED: fakeChatGptSeed("chatgpt-test-account", { expSeconds: inSeconds(30 * 86_400), refreshToken: "rt-seed-fresh" }),
  CHATGPT_TEST_SEED_EXPIRING: fakeChatGptSeed("chatgpt-test-account", { expSeconds: inSeconds(120), refreshToken: "rt-seed-expiring" }),
  CHATGPT_TEST_SEED_ROTATED: fakeChatGptSeed("chatgpt-test-account", { expSeconds: inSeconds(30 * 86_400), refreshToken: "rt-seed-rotated" }),
  CHATGPT_TEST_SEED_CODEX: fakeChatGptSeed("chatgpt-codex-account", { expSeconds: inSeconds(120), refreshToken: "rt-seed-codex", codexAuthJson: true }),
  CHATGPT_TEST_SEED_BROKEN: "{not json",
};

/** The tokenizer Worker (count_tokens), bundled for the gateway's TOKENIZER service binding. */
const tokenizerScript = new URL("./.tmp/tokenizer-worker.js", import.meta.url).pathname;
await build({
  entryPoints: [new URL("./src/tokenizer/tokenizer-worker.ts", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
  outfile: tokenizerScript,
  logLevel: "silent",
});

/** The project's D1 migrations, applied to the test database by test/workers/support/apply-migrations.ts. */
const migrations = await readD1Migrations(new URL("./migrations", import.meta.url).pathname);

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { GATEWAY_KEYS: "test-key-1,test-key-2", ADMIN_KEY: "test-admin-key", TEST_MIGRATIONS: migrations, ...chatGptSeeds },
        workers: [{ name: "turnpike-tokenizer", modules: true, scriptPath: tokenizerScript, compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] }],
      },
    }),
  ],
  test: {
    include: ["src/**/*.test.ts", "test/workers/**/*.test.ts"],
    setupFiles: ["./test/workers/support/apply-migrations.ts"],
    // The Worker logs a line per request; show it only for failing tests.
    silent: "passed-only",
    // Property tests read these (test/workers/support/fuzz.ts): `npm run fuzz` sets FUZZ_RUNS.
    provide: { fuzz: { runs: process.env.FUZZ_RUNS ?? "", seed: process.env.FUZZ_SEED ?? "", path: process.env.FUZZ_PATH ?? "" } },
  },
});
