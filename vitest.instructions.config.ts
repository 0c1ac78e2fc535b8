// `npm run bench:instructions`: instructions per turn, counted by valgrind (test/instructions/).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/instructions/**/*.bench.ts"],
    fileParallelism: false,
    hookTimeout: 120_000,
  },
});
