// `npm start`'s server: the Worker straight in Miniflare (one workerd process), bundled with
// esbuild from wrangler.toml as the benchmarks run it, with wrangler dev's local state.
//
// Not `wrangler dev`: wrangler puts its proxy Worker (a second workerd process) in front of the
// Worker, and under load that hop loses connections. Its proxy then answers the request with a
// 503 "Your worker restarted mid-request" although nothing restarted (docs/performance.md,
// "Scale"). Here clients reach the Worker's own workerd directly.
//
// What it keeps of wrangler dev: the port and address from wrangler.toml's [dev] (or --port,
// --ip), the bindings and .dev.vars, the same local storage (.wrangler/state: the D1 database,
// the Durable Objects), a rebuild and reload when a source file changes,
// /cdn-cgi/handler/scheduled to run the cron trigger, and --inspector-port for DevTools. The
// tokenizer Worker (tokenizer.wrangler.toml) runs beside the gateway, behind its TOKENIZER binding.
import { build, context } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

/**
 * @param {{ root: string, port?: number, host?: string, persistTo?: string, inspectorPort?: number }} options
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function serveInMiniflare(options) {
  const configPath = join(options.root, "wrangler.toml");
  const config = unstable_readConfig({ config: configPath });
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(config);
  const host = options.host ?? config.dev.ip ?? "127.0.0.1";
  const port = options.port ?? config.dev.port ?? 8787;
  // wrangler dev keeps its local state in <persist>/v3 (d1/, do/<worker>-<class>/, …).
  const persistRoot = join(resolve(options.root, options.persistTo ?? ".wrangler/state"), "v3");

  const tokenizer = await tokenizerWorker(options.root);

  /** @type {Miniflare | undefined} */
  let miniflare;
  let reloads = 0;
  const miniflareOptions = (script) => ({
    workers: [
      {
        // The name makes the objects' storage folders the same as wrangler dev's (turnpike-<class>).
        name: config.name,
        compatibilityDate: workerOptions.compatibilityDate,
        compatibilityFlags: workerOptions.compatibilityFlags,
        bindings: workerOptions.bindings,
        durableObjects: workerOptions.durableObjects,
        d1Databases: workerOptions.d1Databases,
        serviceBindings: tokenizer ? workerOptions.serviceBindings : undefined,
        modules: [{ type: "ESModule", path: "worker.js", contents: script }],
      },
      ...(tokenizer ? [tokenizer] : []),
    ],
    host,
    port,
    defaultPersistRoot: persistRoot,
    unsafeTriggerHandlers: true,
    // No request.cf from the network (there may be none): the placeholder object.
    cf: false,
    ...(options.inspectorPort !== undefined ? { inspectorPort: options.inspectorPort } : {}),
    // Miniflare's own lines (warnings); the Worker writes a line per request itself.
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio(stdout, stderr) {
      createInterface({ input: stdout }).on("line", (line) => process.stdout.write(`${line}\n`));
      createInterface({ input: stderr }).on("line", (line) => process.stderr.write(`${line}\n`));
    },
  });

  let ready;
  const firstBuild = new Promise((resolveReady, reject) => (ready = { resolve: resolveReady, reject }));
  const builder = await context({
    ...bundleOptions,
    entryPoints: [resolve(dirname(configPath), main ?? "")],
    plugins: [
      {
        name: "reload-miniflare",
        setup(build) {
          build.onEnd(async (result) => {
            if (result.errors.length > 0) {
              if (!miniflare) ready.reject(new Error("the Worker did not build (see above)"));
              else process.stderr.write("turnpike: the change did not build; still serving the last build\n");
              return;
            }
            const script = result.outputFiles?.[0]?.text ?? "";
            try {
              if (!miniflare) {
                miniflare = new Miniflare(miniflareOptions(script));
                ready.resolve(await miniflare.ready);
              } else {
                reloads += 1;
                await miniflare.setOptions(miniflareOptions(script));
                process.stdout.write(`turnpike: reloaded after a change (${reloads})\n`);
              }
            } catch (error) {
              if (!miniflare || reloads === 0) ready.reject(error);
              else process.stderr.write(`turnpike: reload failed: ${error instanceof Error ? error.message : String(error)}\n`);
            }
          });
        },
      },
    ],
  });
  await builder.watch();
  const url = (await firstBuild).toString().replace(/\/$/, "");
  return {
    url,
    async close() {
      await builder.dispose();
      await miniflare?.dispose();
    },
  };
}

const bundleOptions = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "browser"],
  external: ["cloudflare:*", "node:*"],
  write: false,
  logLevel: "warning",
};

/** The tokenizer Worker's options for Miniflare (built once: its tables do not change), if it has a config. */
async function tokenizerWorker(root) {
  const configPath = join(root, "tokenizer.wrangler.toml");
  if (!existsSync(configPath)) return undefined;
  const config = unstable_readConfig({ config: configPath });
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(config);
  const bundle = await build({ ...bundleOptions, entryPoints: [resolve(dirname(configPath), main ?? "")] });
  return {
    name: config.name,
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    modules: [{ type: "ESModule", path: "tokenizer.js", contents: bundle.outputFiles[0].text }],
  };
}
