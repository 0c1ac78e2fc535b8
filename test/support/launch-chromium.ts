// Debian's Chromium, driven by puppeteer-core, for the admin page's browser test. The machine's
// network is closed: without the background-networking flags Chromium keeps trying to reach its
// update, sync and field-trial services and fills the log with refused connections. A fresh
// profile each time, deleted on close, so that no cookie of an earlier run is ever sent.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

/** Where Debian's `chromium` package puts the browser; CHROMIUM_PATH names another. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  // A missing browser fails the test, loudly: CI must really run it (.ci/run installs it).
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is not installed at ${chromiumPath}. The admin page's browser test needs it: \`apt-get install -y chromium\` (.ci/run does this when it is missing), or set CHROMIUM_PATH.`);
  }
  const profile = mkdtempSync(join(tmpdir(), "turnpike-chromium-"));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${profile}`,
      ],
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium at ${chromiumPath} could not be started: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
