// Starts a Worker straight in Miniflare, for `npm run bench` and `npm run soak`.
// `unstable_startWorker` (used by the end-to-end tests) puts wrangler's own proxy Worker in front
// of the Worker, which measured ~2.7 ms per request on this machine: more than the gateway's own
// cost, in every path alike.
// Here the Worker is bundled with esbuild and its bindings come from the same wrangler.toml.
import { build, type BuildOptions } from "esbuild";
import { Miniflare, type MiniflareOptions as WorkerdOptions } from "miniflare";
import { existsSync } from "node:fs";
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
  /** Without the Workers it binds as services (the tokenizer): only its own script in the workerd. */
  withoutServices?: boolean;
  /**
   * Open workerd's inspector on a free port (`inspectorUrl`), e.g. to read the isolate's heap;
   * nothing is attached to it unless the caller connects.
   */
  inspector?: boolean;
  /**
   * Also serve the gateway on a socket of its own (`directUrl`), without Miniflare's entry Worker
   * in front: that Worker negotiates a client WebSocket's compression by its own compatibility
   * flags, so only here does the gateway's own handshake reach the client, as when deployed.
   */
  directSocket?: boolean;
}

export interface MiniflareGateway extends Gateway {
  /** The inspector's `ws://` address, with `inspector: true`. */
  inspectorUrl?: string;
  /** The gateway's own socket's `http://` address, with `directSocket: true`. */
  directUrl?: string;
}

/** How a Worker is bundled here: as wrangler bundles it for workerd, minified. */
export const workerBundleOptions = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "browser"],
  external: ["cloudflare:*", "node:*"],
  write: false,
  logLevel: "silent",
  minify: true,
} as const satisfies BuildOptions;

async function bundled(entryPoint: string): Promise<string> {
  const bundle = await build({ ...workerBundleOptions, entryPoints: [entryPoint] });
  return bundle.outputFiles[0]!.text;
}

/** The script of the Worker of `configPath`, bundled and minified as Miniflare runs it. */
export function workerScript(configPath: string): Promise<string> {
  const { main } = unstable_getMiniflareWorkerOptions(configPath);
  return bundled(resolve(dirname(configPath), main ?? ""));
}

export async function startInMiniflare(configPath: string, variables: Record<string, string>, options: MiniflareOptions = {}): Promise<MiniflareGateway> {
  const miniflare = new Miniflare(await workerdOptions(configPath, variables, options));
  const url = (await miniflare.ready).toString().replace(/\/$/, "");
  const inspectorUrl = options.inspector ? (await miniflare.getInspectorURL()).toString() : undefined;
  const directUrl = options.directSocket ? (await miniflare.unsafeGetDirectURL("turnpike")).toString().replace(/\/$/, "") : undefined;
  return { url, close: () => miniflare.dispose(), ...(inspectorUrl ? { inspectorUrl } : {}), ...(directUrl ? { directUrl } : {}) };
}

/** What startInMiniflare starts a workerd with: the Worker of `configPath` and the Workers it binds, bundled. */
export async function workerdOptions(configPath: string, variables: Record<string, string>, options: MiniflareOptions = {}): Promise<WorkerdOptions> {
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(configPath);
  const entryPoint = resolve(dirname(configPath), main ?? "");
  // The Workers the gateway binds as services (the tokenizer), run beside it from their own configs.
  const services = Object.entries(workerOptions.serviceBindings ?? {}).flatMap(([, target]) => (typeof target === "object" && target !== null && "name" in target ? [String(target.name)] : []));
  const auxiliary = [];
  for (const name of options.withoutServices ? [] : services) {
    const config = resolve(dirname(configPath), `${name.replace(/^turnpike-/, "")}.wrangler.toml`);
    if (!existsSync(config)) continue;
    const { workerOptions: options, main: auxiliaryMain } = unstable_getMiniflareWorkerOptions(config);
    auxiliary.push({
      name,
      compatibilityDate: options.compatibilityDate,
      compatibilityFlags: options.compatibilityFlags,
      modules: [{ type: "ESModule" as const, path: `${name}.js`, contents: await bundled(resolve(dirname(config), auxiliaryMain ?? "")) }],
    });
  }
  return {
    workers: [
      {
        name: "turnpike",
        compatibilityDate: workerOptions.compatibilityDate,
        compatibilityFlags: workerOptions.compatibilityFlags,
        durableObjects: workerOptions.durableObjects,
        d1Databases: options.withoutDatabase ? undefined : workerOptions.d1Databases,
        serviceBindings: auxiliary.length > 0 ? workerOptions.serviceBindings : undefined,
        modules: [{ type: "ESModule", path: "worker.js", contents: await bundled(entryPoint) }],
        bindings: variables,
        ...(options.directSocket ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : {}),
      },
      ...auxiliary,
    ],
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
  };
}
