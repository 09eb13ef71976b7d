/** The codex-exec driver on its own: its argv, what it reads from Codex's terminal transcript, and its verdict. */
import type { WorkerSpec } from '../../src/shared/protocol';
import { CodexExecDriver } from '../../src/worker/drivers/codexExec';
import type { DriverEvent } from '../../src/worker/drivers/driver';
import { FakeAgentProcess } from '../support/fakeAgentProcess';

const spec = { agent: 'codex', model: null, mode: 'plan' } as WorkerSpec;

function setup() {
  const events: DriverEvent[] = [];
  const driver = new CodexExecDriver({ spec, emit: (e) => events.push(e) });
  const proc = new FakeAgentProcess();
  return { events, driver, proc, of: <T extends DriverEvent['type']>(t: T) => events.filter((e) => e.type === t) };
}

test('argv: one message per process, after --, resuming the thread when continuing', () => {
  const { driver } = setup();
  expect(driver.messagesPerProcess).toBe(1);
  expect(driver.command(['-rf task'], null).slice(-4)).toEqual(['exec', '--skip-git-repo-check', '--', '-rf task']);
  expect(driver.command(['next'], 'T1').slice(-5)).toEqual(['--skip-git-repo-check', 'resume', 'T1', '--', 'next']);
  expect(driver.command(['x'], null)).toEqual(expect.arrayContaining(['--sandbox', 'read-only', '--ask-for-approval', 'never']));
});

test('transcript: the thread id, every line as output, the last codex block as the answer (also one still open at exit)', () => {
  const { driver, proc, of } = setup();
  driver.begin(proc);
  for (const l of ['session id: 0199aaaa-bbbb-cccc', 'user', 'task', 'codex', 'first answer', 'exec', 'ls', 'codex', 'final', 'answer']) driver.stdoutLine(l);
  expect(of('agentSessionId')).toEqual([{ type: 'agentSessionId', id: '0199aaaa-bbbb-cccc' }]);
  expect(of('line')).toHaveLength(10);
  // Reported when a block ends, not rebuilt per line.
  expect(of('finalAnswer')).toEqual([{ type: 'finalAnswer', text: 'first answer' }]);
  expect(driver.processExited({ exitCode: 0, signal: null })).toEqual({ completedSuccessfully: true });
  expect(of('finalAnswer').at(-1)).toEqual({ type: 'finalAnswer', text: 'final\nanswer' });
  expect(of('turnStarted')).toHaveLength(1);
  expect(of('turnEnded')).toEqual([{ type: 'turnEnded', ok: true }]);
});

test("errors: Codex's own error lines; a reconnect only if it names a cause; a non-zero exit is no success", () => {
  const { driver, proc, of } = setup();
  driver.begin(proc);
  driver.stdoutLine('ERROR: Reconnecting... 1/5');
  driver.stdoutLine('ERROR: unexpected status 401 Unauthorized');
  driver.stdoutLine('  the command printed Error-ish text');
  expect(of('error')).toEqual([
    { type: 'error', text: 'ERROR: Reconnecting... 1/5', onlyIfRecognised: true },
    { type: 'error', text: 'ERROR: unexpected status 401 Unauthorized', onlyIfRecognised: false },
  ]);
  expect(driver.processExited({ exitCode: 1, signal: null })).toEqual({ completedSuccessfully: false });
});

test('no message mid-turn: queued with the count; raw keystrokes reach the terminal; interrupt is SIGINT', () => {
  const { driver, proc } = setup();
  driver.begin(proc);
  expect(driver.deliver('more', 2)).toEqual({ outcome: 'queue', note: expect.stringContaining('(3 queued)') });
  expect(driver.deliverRaw('y\r')).toEqual({ outcome: 'delivered' });
  expect(proc.writes).toEqual(['y\r']);
  driver.interrupt();
  expect(proc.signals).toEqual(['SIGINT']);
});
