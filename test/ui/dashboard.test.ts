/// <reference lib="dom" />
/**
 * The dashboard in a real browser (headless Chromium) against a real supervisor
 * with real workers (the fake Claude agent: what it prints is what matters
 * here, not which agent prints it): log in, the list, live output, send, kill,
 * hostile output shown as text, and screenshots for the artifacts and README.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, until } from '../helpers/server';
import { finish, startSecurityServer } from '../security/support';
import { type Browser, launchBrowser, login, screenshot, shownLines } from './support';

/** A person's reading time is not what is tested: generous, for a loaded 2-core box. */
const UI_WAIT_MS = 20_000;

let server: RunningServer;
let client: Client;
let browser: Browser;

beforeAll(async () => {
  server = await startSecurityServer();
  client = await connect(server, 'http');
  browser = await launchBrowser(server.dirs.base);
  await login(browser.page, server.url, server.token);
});

afterAll(async () => {
  await browser?.close();
  await finish(server, [client]);
});

async function startHeld(cwd: string): Promise<string> {
  // "slow" holds the first turn open for ten minutes: the session stays running, silent, until told.
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd, task: 'slow 600000 first' });
  return s.sessionId as string;
}

test('the list shows the sessions started over MCP, with status and agent', async () => {
  const ids = [await startHeld('alpha'), await startHeld('beta')];
  const { page } = browser;
  await page.goto(`${server.url}/ui#/`);
  for (const id of ids) {
    const row = page.locator(`[data-session="${id}"]`);
    await row.waitFor({ timeout: UI_WAIT_MS });
    expect(await row.locator('.status').textContent()).toBe('running');
    expect(await row.locator('.agent').textContent()).toBe('claude-code');
  }
  // A third session started while the page is open appears without a reload (the live feed).
  const third = await startHeld('gamma');
  await page.locator(`[data-session="${third}"]`).waitFor({ timeout: UI_WAIT_MS });
  await screenshot(page, 'list');
  // The token is nowhere the page keeps things: not in the URL, storage, or a script-readable cookie.
  const kept = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage }, c: document.cookie, u: location.href }));
  expect(kept).not.toContain(server.token);
  expect(JSON.parse(kept).c).toBe('');
});

test("a session's new lines appear live, sent from the page and from MCP", async () => {
  const id = await startHeld('live');
  const { page } = browser;
  await page.goto(`${server.url}/ui#/s/${id}`);
  await page.locator('[data-testid=output]').waitFor();
  await call(client, 'session_send', { sessionId: id, message: 'from-mcp-1' });
  await page.getByText('echo: from-mcp-1', { exact: true }).first().waitFor({ timeout: UI_WAIT_MS });
  // The send box: the agent's answer to it appears the same way.
  await page.fill('textarea[aria-label=message]', 'from-the-page');
  await page.click('form.send button[type=submit]');
  await page.getByText('echo: from-the-page', { exact: true }).first().waitFor({ timeout: UI_WAIT_MS });
  const lines = await shownLines(page);
  expect(lines).toEqual(expect.arrayContaining(['echo: from-mcp-1', 'echo: from-the-page']));
  expect(lines.indexOf('echo: from-mcp-1')).toBeLessThan(lines.indexOf('echo: from-the-page'));
  await screenshot(page, 'session');
});

test('an agent printing markup shows it as text: no dialog, no request made', async () => {
  const id = await startHeld('hostile');
  const { page } = browser;
  const dialogs: string[] = [];
  const requests: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${server.url}/ui#/s/${id}`);
  await page.locator('[data-testid=output]').waitFor();
  const script = '<script>alert(1)</script>';
  const img = `<img src=x onerror="alert(2);fetch('/ui/pwned')">`;
  await call(client, 'session_send', { sessionId: id, message: `${script} ${img}` });
  await page.getByText(`echo: ${script} ${img}`, { exact: true }).first().waitFor({ timeout: UI_WAIT_MS });
  expect(await page.locator('[data-testid=output] script, [data-testid=output] img').count()).toBe(0);
  expect(dialogs).toEqual([]);
  expect(requests.filter((u) => /\/x$|pwned/.test(u))).toEqual([]);
});

test('interrupt from the page stops the turn and keeps the session', async () => {
  const id = await startHeld('interrupted');
  const { page } = browser;
  await page.goto(`${server.url}/ui#/s/${id}`);
  await page.getByRole('button', { name: 'Interrupt' }).click();
  // The agent's turn in progress ends with an error result (what Claude does on an interrupt).
  await page
    .getByText(/^\[result\] (error|failed)/)
    .first()
    .waitFor({ timeout: UI_WAIT_MS });
  await page.getByRole('status').filter({ hasText: 'interrupted' }).waitFor({ timeout: UI_WAIT_MS });
});

test("the diff tab shows what changed in the session's cwd since it started", async () => {
  const cwd = path.join(server.dirs.workspace, 'repo');
  fs.mkdirSync(cwd);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' });
  git('init', '-q');
  fs.writeFileSync(path.join(cwd, 'a.txt'), 'before\n');
  git('add', '.');
  git('commit', '-qm', 'base');
  const id = await startHeld('repo');
  fs.writeFileSync(path.join(cwd, 'a.txt'), 'after <b>bold</b>\n');
  const { page } = browser;
  await page.goto(`${server.url}/ui#/s/${id}`);
  await page.getByRole('button', { name: 'Diff' }).click();
  await page.locator('.diff .add', { hasText: '+after <b>bold</b>' }).waitFor({ timeout: UI_WAIT_MS });
  expect(await page.locator('.diff .del').allTextContents()).toContain('-before');
  expect(await page.locator('.diff b').count()).toBe(0);
});

test('kill from the page ends the session', async () => {
  const id = await startHeld('victim');
  const { page } = browser;
  await page.goto(`${server.url}/ui#/s/${id}`);
  await page.getByRole('button', { name: 'Kill' }).click();
  await page.getByRole('button', { name: 'Confirm kill' }).click();
  await page.locator('.session-head .status', { hasText: 'killed' }).waitFor({ timeout: UI_WAIT_MS });
  await until(
    async () => (await call(client, 'session_list', { status: 'all' })).sessions.find((s: { sessionId: string }) => s.sessionId === id)?.status === 'killed',
    UI_WAIT_MS,
    'killed in session_list',
  );
});

test('a session started from the form runs, and shows its output', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/ui#/`);
  await page.getByRole('button', { name: 'New session' }).click();
  await page.fill('input[name=cwd]', 'from-form');
  await page.fill('textarea[name=task]', 'hello from the form');
  await page.click('form.start button[type=submit]');
  await page.getByText('echo: hello from the form', { exact: true }).first().waitFor({ timeout: UI_WAIT_MS });
  const listed = await call(client, 'session_list', { status: 'all' });
  expect(listed.sessions.some((s: { cwd: string }) => s.cwd.endsWith('/from-form'))).toBe(true);
});

test('at phone width the list and a session fit the screen', async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${server.url}/ui#/`);
    await page.locator('a.row').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'list-phone');
    await page.locator('a.row').first().click();
    await page.locator('[data-testid=output]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, 'session-phone');
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});
