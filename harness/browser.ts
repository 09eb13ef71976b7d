/**
 * A real headless Chromium for the dashboard tests and bench: Debian's
 * /usr/bin/chromium (CHROMIUM_BIN to choose another) driven by playwright-core,
 * which downloads no browser. Its profile lives under the run's own directory,
 * so `leftovers(dirs)` finds a browser process that outlived its test, and the
 * profile goes when the directory does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** As root in a container Chromium needs --no-sandbox; the rest keep it from reaching the network or updating itself. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(base: string, viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(base, 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
