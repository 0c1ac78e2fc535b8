// The request path's bundle stays small (issue 13: at most 150 KB gzipped as `wrangler deploy`
// uploads it), and keeps out what would make it big again: classic zod, which cannot be
// tree-shaken, and zod's locales (src/shared/schema-messages.ts gives the English messages).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { workerBundleOptions } from "../support/start-miniflare";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

describe("the gateway's bundle", () => {
  it("uploads at most 150 KB gzipped", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "turnpike-dry-run-"));
    try {
      const { stdout } = await promisify(execFile)("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], { cwd: projectRoot, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
      const gzipKib = Number(/Total Upload: [\d.]+ KiB \/ gzip: ([\d.]+) KiB/.exec(stdout)?.[1]);
      expect(gzipKib * 1024).toBeLessThanOrEqual(150_000);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("holds no classic zod and no zod locale", async () => {
    const { metafile } = await build({ ...workerBundleOptions, entryPoints: [join(projectRoot, "src/index.ts")], metafile: true });
    const bundled = Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path));
    expect(bundled.filter((path) => path.includes("node_modules/zod/") && !/node_modules\/zod\/v4\/(mini|core)\//.test(path))).toEqual([]);
  });
});
