// Starts a Worker straight in Miniflare, for `npm run bench` and `npm run soak`.
// `unstable_startWorker` (used by the end-to-end tests) puts wrangler's own proxy Worker in front
// of the Worker, which measured ~2.7 ms per request on this machine: more than the gateway's own
// cost, in every path alike.
// Here the Worker is bundled with esbuild and its bindings come from the same wrangler.toml.
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { Gateway } from "./start-gateway";

export interface MiniflareOptions {
  /** Every line the Worker prints (its request log, warnings, uncaught errors); replaces the default. */
  onOutput?(stream: "stdout" | "stderr", line: string): void;
  /** Without the D1 database (no team keys, no usage rows): what recording usage costs is the difference. */
  withoutDatabase?: boolean;
  /**
   * Open workerd's inspector on a free port (`inspectorUrl`), e.g. to read the isolate's heap;
   * nothing is attached to it unless the caller connects.
   */
  inspector?: boolean;
}

export interface MiniflareGateway extends Gateway {
  /** The inspector's `ws://` address, with `inspector: true`. */
  inspectorUrl?: string;
}

export async function startInMiniflare(configPath: string, variables: Record<string, string>, options: MiniflareOptions = {}): Promise<MiniflareGateway> {
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(configPath);
  const entryPoint = resolve(dirname(configPath), main ?? "");
  const bundle = await build({
    entryPoints: [entryPoint],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    write: false,
    logLevel: "silent",
  });
  const miniflare = new Miniflare({
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    durableObjects: workerOptions.durableObjects,
    d1Databases: options.withoutDatabase ? undefined : workerOptions.d1Databases,
    modules: [{ type: "ESModule", path: "worker.js", contents: bundle.outputFiles[0]!.text }],
    bindings: variables,
    host: "127.0.0.1",
    port: 0,
    ...(options.inspector ? { inspectorPort: 0 } : {}),
    // The request log (one console.log line per request) is dropped, not printed between
    // timings; errors (stderr) still show.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      const onOutput = options.onOutput;
      if (onOutput) {
        createInterface({ input: stdout }).on("line", (line) => onOutput("stdout", line));
        createInterface({ input: stderr }).on("line", (line) => onOutput("stderr", line));
        return;
      }
      stdout.resume();
      stderr.pipe(process.stderr);
    },
  });
  const url = (await miniflare.ready).toString().replace(/\/$/, "");
  const hasDatabase = !options.withoutDatabase && Object.keys(workerOptions.d1Databases ?? {}).includes("DB");
  if (hasDatabase) await applyMigrations(await miniflare.getD1Database("DB"), resolve(dirname(configPath), "migrations"));
  const inspectorUrl = options.inspector ? (await miniflare.getInspectorURL()).toString() : undefined;
  return { url, close: () => miniflare.dispose(), ...(inspectorUrl ? { inspectorUrl } : {}) };
}

/** The project's D1 migrations, on the in-memory database (what `npm start` applies locally). */
async function applyMigrations(db: Awaited<ReturnType<Miniflare["getD1Database"]>>, folder: string): Promise<void> {
  if (!existsSync(folder)) return;
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".sql")).sort()) {
    const sql = readFileSync(resolve(folder, file), "utf8")
      .split("\n")
      .filter((line) => !line.trim().startsWith("--"))
      .join("\n");
    const statements = sql.split(/;\s*(?:\n|$)/).map((statement) => statement.trim()).filter(Boolean);
    await db.batch(statements.map((statement) => db.prepare(statement)));
  }
}
