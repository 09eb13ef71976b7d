/**
 * The Codex app-server driver with the REAL `codex app-server` (0.169) against the scripted
 * model server, through the driver interface directly (test/support/appServerRig.ts plays the
 * session). Each model call of the script reports 10 input and 5 output tokens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { closedPort } from '../support/agentEnv';
import { AppServerRig } from '../support/appServerRig';

let rig: AppServerRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

// Control characters but tab, DEL and C1: no escape sequence reaches a client.

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/** Text of the Responses-API input messages of one role, in order, without Codex's own context messages. */
function said(body: any, role: string): string[] {
  const texts = (body.input as any[]).filter((i) => i.type === 'message' && i.role === role).map((i) => i.content.map((c: any) => c.text).join(''));
  return texts.filter((t: string) => !t.startsWith('<environment_context>'));
}

/** Codex's own start-up notes on stderr: once per process, so twice in a resumed session. */
const CODEX_NOTE = / WARNING | ERROR |^WARNING: /;

function repeated(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((l) => (seen.has(l) ? true : (seen.add(l), false)));
}

test('two turns on one thread: a command turn, then a new process resumes the thread; usage is what the model reported', async () => {
  rig = await AppServerRig.start([
    { text: 'Running it.\x1b]52;c;ZXZpbA==\x07', toolCalls: [{ name: 'exec_command', input: { cmd: "printf '\\033[31mred\\033[0m\\n'; echo made > made.txt" } }] },
    { text: 'Made it.' },
    { text: 'Second answer.' },
  ]);
  const first = await rig.runProcess(['make the file']).ended;
  expect(first).toEqual({ exit: { exitCode: 0, signal: null }, completedSuccessfully: true });
  expect(fs.readFileSync(path.join(rig.cwd, 'made.txt'), 'utf8')).toBe('made\n');
  const thread = rig.events.find((e) => e.type === 'agentSessionId');
  expect(thread).toEqual({ type: 'agentSessionId', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  const threadId = (thread as { id: string }).id;

  const second = await rig.runProcess(['and now?'], threadId).ended;
  expect(second.completedSuccessfully).toBe(true);
  // The resumed thread: the model's request holds the whole history.
  const last = rig.model.requests[2].body;
  expect(said(last, 'user')).toEqual(['make the file', 'and now?']);
  expect(said(last, 'assistant')).toEqual(expect.arrayContaining(['Made it.']));
  expect(rig.events.filter((e) => e.type === 'agentSessionId')).toEqual([thread, thread]);

  expect(rig.lines().filter((l) => CONTROL.test(l))).toEqual([]);
  const lines = rig.lines().filter((l) => !CODEX_NOTE.test(l));
  expect(repeated(lines)).toEqual([]);
  expect(lines).toEqual([
    'Running it.',
    expect.stringMatching(/^\[command\] .*printf .* → exit 0 \(\d+\.\d s\)$/),
    '  red',
    'Made it.',
    expect.stringMatching(/^\[result\] success tokens in=20 out=10 /),
    'Second answer.',
    expect.stringMatching(/^\[result\] success tokens in=10 out=5 /),
  ]);
  expect(rig.usage()).toEqual({ in: 10 * rig.model.requests.length, cached: 0, out: 5 * rig.model.requests.length });
  expect(rig.events.filter((e) => e.type === 'turnEnded')).toEqual([
    { type: 'turnEnded', ok: true },
    { type: 'turnEnded', ok: true },
  ]);
  expect(rig.events.filter((e) => e.type === 'finalAnswer').pop()).toEqual({ type: 'finalAnswer', text: 'Second answer.' });
});

test('a message sent while the model is slow steers the running turn: one turn, and the next model request holds it', async () => {
  rig = await AppServerRig.start([{ text: 'slow answer', delayMs: 2_000 }, { text: 'Saw the steer.' }]);
  const run = rig.runProcess(['start working']);
  await rig.model.waitForRequests(1);
  expect(rig.driver.deliver('also do this', 0)).toEqual({ outcome: 'delivered', steered: true });
  const end = await run.ended;
  expect(end.completedSuccessfully).toBe(true);
  expect(rig.count('turnStarted')).toBe(1);
  expect(rig.count('turnEnded')).toBe(1);
  expect(said(rig.model.requests[1].body, 'user')).toEqual(['start working', 'also do this']);
  expect(rig.lines()).toContain('Saw the steer.');
  expect(repeated(rig.lines())).toEqual([]);
  // Codex drops the answer the steer overtook, and does not count it: neither do we.
  expect(rig.usage()).toEqual({ in: 10, cached: 0, out: 5 });
  expect(rig.lines().filter((l) => l.startsWith('[result]'))).toEqual([expect.stringMatching(/^\[result\] success tokens in=10 out=5 /)]);
});

test('interrupt mid-turn ends the turn interrupted; the next message continues the thread in a new process', async () => {
  rig = await AppServerRig.start([{ text: 'never sent', delayMs: 60_000 }, { text: 'Continuing.' }]);
  const run = rig.runProcess(['a long job']);
  await rig.model.waitForRequests(1);
  rig.driver.interrupt();
  const end = await run.ended;
  expect(end).toEqual({ exit: { exitCode: 0, signal: null }, completedSuccessfully: false });
  expect(rig.events.filter((e) => e.type === 'turnEnded')).toEqual([{ type: 'turnEnded', ok: false }]);
  expect(rig.lines()).toContainEqual(expect.stringMatching(/^\[result\] interrupted tokens in=0 out=0/));
  expect(rig.lines()).not.toContain('never sent');
  // Between processes the driver takes no message: the session queues it for the next one.
  expect(rig.driver.deliver('go on', 0)).toMatchObject({ outcome: 'queue' });

  const threadId = (rig.events.find((e) => e.type === 'agentSessionId') as { id: string }).id;
  const again = await rig.runProcess(['go on'], threadId).ended;
  expect(again.completedSuccessfully).toBe(true);
  expect(said(rig.model.requests[1].body, 'user')).toEqual(['a long job', 'go on']);
  expect(rig.lines()).toContain('Continuing.');
});

test('an app-server killed mid-turn: the thread resumes in a new process with the message it had', async () => {
  rig = await AppServerRig.start([{ text: 'never sent', delayMs: 60_000 }, { text: 'Back again.' }]);
  const run = rig.runProcess(['remember me']);
  await rig.model.waitForRequests(1);
  rig.killLatest();
  expect(await run.ended).toEqual({ exit: { exitCode: null, signal: 'SIGKILL' }, completedSuccessfully: false });
  const threadId = (rig.events.find((e) => e.type === 'agentSessionId') as { id: string }).id;
  expect((await rig.runProcess(['still there?'], threadId).ended).completedSuccessfully).toBe(true);
  expect(said(rig.model.requests[1].body, 'user')).toEqual(['remember me', 'still there?']);
});

test('an unreachable model ends the process with a failed turn and a summary, not endless reconnecting', async () => {
  rig = await AppServerRig.start([], 'full', `http://127.0.0.1:${await closedPort()}`);
  const end = await rig.runProcess(['hello?']).ended;
  expect(end).toEqual({ exit: { exitCode: 0, signal: null }, completedSuccessfully: false });
  expect(rig.events).toContainEqual({ type: 'error', text: 'the model server could not be reached' });
  expect(rig.events.filter((e) => e.type === 'turnEnded')).toEqual([{ type: 'turnEnded', ok: false }]);
  expect(rig.lines()).toContainEqual(expect.stringMatching(/^\[result\] failed tokens in=0 out=0/));
});

test('edit mode: a patch and a command write inside the workspace, each item one line', async () => {
  const patch = '*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch\n';
  rig = await AppServerRig.start(
    [{ toolCalls: [{ name: 'apply_patch', input: patch }] }, { toolCalls: [{ name: 'exec_command', input: { cmd: 'echo x > w.txt; cat w.txt' } }] }, { text: 'Both written.' }],
    'edit',
  );
  expect((await rig.runProcess(['write two files']).ended).completedSuccessfully).toBe(true);
  expect(fs.readFileSync(path.join(rig.cwd, 'new.txt'), 'utf8')).toBe('hello\n');
  expect(fs.readFileSync(path.join(rig.cwd, 'w.txt'), 'utf8')).toBe('x\n');
  expect(rig.lines().filter((l) => !CODEX_NOTE.test(l))).toEqual([
    `[file change] add ${path.join(rig.cwd, 'new.txt')}`,
    expect.stringMatching(/^\[command\] \/bin\/bash -lc 'echo x > w.txt; cat w.txt' → exit 0 \(\d+\.\d s\)$/),
    '  x',
    'Both written.',
    expect.stringMatching(/^\[result\] success tokens in=30 out=15 /),
  ]);
});

test('plan mode: a write is refused by the sandbox and the model sees the refusal', async () => {
  const patch = '*** Begin Patch\n*** Add File: planned.txt\n+should not exist\n*** End Patch\n';
  rig = await AppServerRig.start([{ toolCalls: [{ name: 'apply_patch', input: patch }] }, { text: 'It was refused.' }], 'plan');
  const end = await rig.runProcess(['write planned.txt']).ended;
  expect(end.completedSuccessfully).toBe(true);
  expect(fs.existsSync(path.join(rig.cwd, 'planned.txt'))).toBe(false);
  expect(JSON.stringify(rig.model.requests[1].body.input)).toMatch(/writing is blocked by read-only sandbox/);
  expect(rig.lines()).toContain('It was refused.');
});

test('raw input and approvals are refused with a reason, not dropped', async () => {
  rig = await AppServerRig.start([]);
  expect(rig.driver.deliverRaw('y\r')).toEqual({ outcome: 'refused', note: expect.stringMatching(/needs a terminal.*CODEX_PROTOCOL=exec/) });
  expect(rig.driver.answerApproval('a1', { decision: 'allow' })).toEqual({ ok: false, error: 'Codex is not waiting for it' });
});
