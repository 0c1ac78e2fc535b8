// Starts the Worker locally with wrangler's `unstable_startWorker` (inspector off, no
// persistence, no .dev.vars), configured through the same variables a deployment uses.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_startWorker } from "wrangler";

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface GatewayOptions {
  /** Another Worker's wrangler configuration (the benchmark's pass-through floor). */
  configPath?: string;
  /** Keep Durable Object storage in this folder, so that a restarted Worker finds it again. */
  persistTo?: string;
}

/**
 * The dev registry the gateway finds its tokenizer Worker in (its TOKENIZER service binding):
 * one folder per test process, and one tokenizer Worker, started with the first gateway.
 */
const registry = mkdtempSync(join(tmpdir(), "turnpike-registry-"));
let tokenizer: Promise<unknown> | undefined;

function startTokenizer(): Promise<unknown> {
  tokenizer ??= unstable_startWorker({
    config: `${projectRoot}/tokenizer.wrangler.toml`,
    envFiles: [],
    dev: { inspector: false, persist: false, watch: false, logLevel: "warn", registry, server: { hostname: "127.0.0.1", port: 0 } },
  }).then(async (worker) => {
    await worker.ready;
    return worker;
  });
  return tokenizer;
}

export async function startGateway(variables: Record<string, string>, options: GatewayOptions = {}): Promise<Gateway> {
  if (!options.configPath) await startTokenizer();
  const worker = await unstable_startWorker({
    config: options.configPath ?? `${projectRoot}/wrangler.toml`,
    envFiles: [],
    bindings: Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, { type: "secret_text" as const, value }]),
    ),
    dev: {
      inspector: false,
      persist: options.persistTo ?? false,
      registry,
      watch: false,
      logLevel: "log",
      server: { hostname: "127.0.0.1", port: 0 },
    },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, "");
  return { url, close: () => worker.dispose() };
}

/**
 * Everything printed to the console while a test runs: the Worker's log lines reach the test
 * process through wrangler's logger. Used to prove that no secret is ever logged.
 */
export function captureConsole(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const originals = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...values: unknown[]) => {
      lines.push(values.map(String).join(" "));
    };
  }
  return {
    lines,
    restore() {
      methods.forEach((method, index) => (console[method] = originals[index]!));
    },
  };
}
