/// <reference lib="dom" />
/**
 * Approving from the dashboard, end to end: the REAL claude CLI in mode ask
 * (against the scripted model), its permission request held by a real worker,
 * shown by the page (badge in the list, the request in the session), and decided
 * by a click — the agent then does (or does not do) what it asked, and the model
 * sees the outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { closeRigs, startRealRig, waitEnded } from '../support/agentEnv';
import { type Browser, launchBrowser, login, screenshot, shownLines } from './support';

jest.setTimeout(180_000);

/** A real CLI on a loaded 2-core box: generous. */
const UI_WAIT_MS = 60_000;
const bash = (command: string) => ({ name: 'Bash', input: { command, description: 'scripted command' } });

let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await closeRigs();
});

test("an ask session's pending request is approved by a click and the agent continues", async () => {
  const rig = await startRealRig([{ toolCalls: [bash('touch allowed.txt')] }, { text: 'ran it' }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'ask-allow', task: 'create allowed.txt', mode: 'ask' });
  browser = await launchBrowser(rig.dirs.base);
  const { page } = browser;
  await login(page, rig.server.url, rig.server.token);
  // The list: the session waits on a person, with a badge.
  const row = page.locator(`[data-session="${s.sessionId}"]`);
  await row.locator('.badge', { hasText: '1' }).waitFor({ timeout: UI_WAIT_MS });
  expect(await row.locator('.status').textContent()).toBe('awaiting_approval');
  await row.click();
  const approval = page.locator('.approval');
  await approval.waitFor({ timeout: UI_WAIT_MS });
  expect(await approval.locator('.summary').textContent()).toBe('command: Bash: touch allowed.txt');
  expect(fs.existsSync(path.join(s.cwd, 'allowed.txt'))).toBe(false);
  await screenshot(page, 'approval');
  await approval.getByRole('button', { name: 'Allow', exact: true }).click();

  expect(await waitEnded(rig.client, s.sessionId, UI_WAIT_MS)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(fs.existsSync(path.join(s.cwd, 'allowed.txt'))).toBe(true);
  await page.locator('.session-head .status', { hasText: 'exited' }).waitFor({ timeout: UI_WAIT_MS });
  expect(await page.locator('.approval').count()).toBe(0);
  const lines = await shownLines(page);
  expect(lines.some((l) => /^\[approval\] \S+ allowed by ui: Bash: touch allowed\.txt$/.test(l))).toBe(true);
  const approvalId = /\[approval\] pending (\S+):/.exec(lines.join('\n'))![1];
  const decided = await rig.call('session_approve', { sessionId: s.sessionId, approvalId, decision: 'deny' });
  expect(decided).toMatchObject({ alreadyDecided: true, approval: { decision: 'allow', decidedBy: 'ui' } });
});

test('deny with a message: nothing runs, and the model is told the message', async () => {
  const rig = await startRealRig([{ toolCalls: [bash('touch denied.txt')] }, { text: 'fine' }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'ask-deny', task: 'create denied.txt', mode: 'ask' });
  browser = await launchBrowser(rig.dirs.base, { width: 390, height: 844 });
  const { page } = browser;
  await login(page, rig.server.url, rig.server.token);
  await page.goto(`${rig.server.url}/ui#/s/${s.sessionId}`);
  const approval = page.locator('.approval');
  await approval.waitFor({ timeout: UI_WAIT_MS });
  await screenshot(page, 'approval-phone');
  await approval.locator('input[aria-label="approval message"]').fill('not in this repo, use the scratch dir');
  await approval.getByRole('button', { name: 'Deny' }).click();
  expect(await waitEnded(rig.client, s.sessionId, UI_WAIT_MS)).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(s.cwd, 'denied.txt'))).toBe(false);
  expect(JSON.stringify(rig.model.requests[1]?.body?.messages)).toContain('not in this repo, use the scratch dir');
});
