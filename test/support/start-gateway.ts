// Starts the Worker locally with wrangler's `unstable_startWorker` (inspector off, no
// persistence, no .dev.vars), configured through the same variables a deployment uses.
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

export async function startGateway(variables: Record<string, string>, options: GatewayOptions = {}): Promise<Gateway> {
  const worker = await unstable_startWorker({
    config: options.configPath ?? `${projectRoot}/wrangler.toml`,
    envFiles: [],
    bindings: Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, { type: "secret_text" as const, value }]),
    ),
    dev: {
      inspector: false,
      persist: options.persistTo ?? false,
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
