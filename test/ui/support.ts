/**
 * The dashboard tests' rig: the security tests' server (sessions end with it) and
 * raw requests, plus a real Chromium (harness/browser.ts), a login helper, and
 * screenshots kept under test-artifacts/ui (gitignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from '../helpers/server';

export { type Browser, launchBrowser } from '../../harness/browser';

export const ARTIFACTS = path.join(ROOT, 'test-artifacts/ui');

export async function login(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/ui`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('.list-head');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** The text of every output line on screen, in order. */
export function shownLines(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid=output] .line', (els) => els.map((e) => e.textContent ?? ''));
}
