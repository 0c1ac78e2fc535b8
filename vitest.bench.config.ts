// `npm run bench`: the benchmarks in test/bench/, run once in Node (see the files for what they measure).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/bench/**/*.bench.ts"],
    fileParallelism: false,
    hookTimeout: 60_000,
  },
});
