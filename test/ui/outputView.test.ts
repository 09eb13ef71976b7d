/// <reference lib="dom" />
/**
 * The output view with many lines: only what is on screen is in the page, any
 * offset can be reached (the first line, the middle, the end), and lines older
 * than the server keeps (RING_LINES) say so instead of showing wrong text. The
 * bench agent prints `line <i>` for i = 0 … N-1 (offset 0 is the [session] line).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type RunningServer, ROOT, call, connect, until } from '../helpers/server';
import { finish, startSecurityServer } from '../security/support';
import { type Browser, launchBrowser, login } from './support';

const UI_WAIT_MS = 20_000;
const LINES = 20_000;
const RING = 12_000;

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startSecurityServer({ CLAUDE_BIN: path.join(ROOT, 'bench/fixtures/bench-agent.sh'), RING_LINES: String(RING) });
  browser = await launchBrowser(server.dirs.base);
  await login(browser.page, server.url, server.token);
});

afterAll(async () => {
  await browser?.close();
  await finish(server);
});

/** More lines dropped than the view's page cache holds (40 pages of 500): the case that used to re-fetch forever. */
const LONG_LINES = 34_000;
/** How long the view is watched for output reads once the top is on screen. */
const QUIET_WATCH_MS = 2_500;

const line = (page: Page, offset: number) => page.locator(`[data-testid=output] .line[data-offset="${offset}"]`);
const scrollTo = (page: Page, offset: number) => page.locator('[data-testid=output]').evaluate((el, o) => (el.scrollTop = o * 18), offset);

test('20,000 lines: a screenful in the page, the end followed, any offset reachable, dropped lines marked', async () => {
  const client = await connect(server, 'http');
  try {
    const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'many', task: `flood ${LINES}` });
    await until(async () => (await call(client, 'session_output', { sessionId: s.sessionId, since: LINES, limit: 1 })).lines.length > 0, UI_WAIT_MS, 'the flood written');
    const { page } = browser;
    await page.goto(`${server.url}/ui#/s/${s.sessionId}`);
    // Following: the end is on screen (the last flood line at offset LINES).
    await line(page, LINES)
      .filter({ hasText: `line ${LINES - 1}` })
      .waitFor({ timeout: UI_WAIT_MS });
    expect(await page.locator('[data-testid=output] .line').count()).toBeLessThan(200);

    await scrollTo(page, 10_001);
    await line(page, 10_001).filter({ hasText: 'line 10000' }).waitFor({ timeout: UI_WAIT_MS });
    expect(await page.locator('[data-testid=output] .line').count()).toBeLessThan(200);

    // The ring keeps the newest RING lines: older offsets are marked, never filled with other lines.
    await scrollTo(page, 1);
    await line(page, 1).filter({ hasText: '(no longer kept)' }).waitFor({ timeout: UI_WAIT_MS });
    const shown = await page.$$eval('[data-testid=output] .line', (els) => els.map((e) => ({ offset: Number(e.getAttribute('data-offset')), text: e.textContent ?? '' })));
    for (const { offset, text } of shown) if (text.startsWith('line ')) expect(text).toBe(`line ${offset - 1}`);
  } finally {
    await client.close();
  }
});

test('scrolled to the top of a session far longer than the ring, the view stops reading output', async () => {
  const client = await connect(server, 'http');
  const { page } = browser;
  let reads = 0;
  const count = (req: { url(): string }) => void (/\/ui\/api\/sessions\/[^/]+\/output\?/.test(req.url()) && reads++);
  try {
    const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'long', task: `flood ${LONG_LINES}` });
    await until(async () => (await call(client, 'session_output', { sessionId: s.sessionId, since: LONG_LINES, limit: 1 })).lines.length > 0, UI_WAIT_MS, 'the flood written');
    await page.goto(`${server.url}/ui#/s/${s.sessionId}`);
    await line(page, LONG_LINES)
      .filter({ hasText: `line ${LONG_LINES - 1}` })
      .waitFor({ timeout: UI_WAIT_MS });
    page.on('request', count);
    await scrollTo(page, 0);
    await line(page, 1).filter({ hasText: '(no longer kept)' }).waitFor({ timeout: UI_WAIT_MS });
    await page.waitForTimeout(QUIET_WATCH_MS);
    const settled = reads;
    await page.waitForTimeout(QUIET_WATCH_MS);
    expect({ readsWhileIdle: reads - settled, settledAfter: settled }).toEqual({ readsWhileIdle: 0, settledAfter: expect.any(Number) });
    expect(settled).toBeLessThan(10);
  } finally {
    page.off('request', count);
    await client.close();
  }
});
