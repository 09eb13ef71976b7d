/**
 * Notifications from the real supervisor (NOTIFY_URL at a local receiver): sessions that
 * exit well, exit badly, are killed (not news), are lost (their worker SIGKILLed) and hit
 * their budget (maxDurationMs); a
 * receiver that first answers 500 gets the notification on the retry; and one not yet
 * delivered when the supervisor is SIGKILLed is delivered by the next supervisor.
 */
import fs from 'node:fs';
import { TEST_TOKEN, call, until } from '../helpers/server';
import { NotifyReceiver } from '../support/notifyReceiver';
import { health, journalRow, restartRig, waitEnded, withJournal } from './support';

jest.setTimeout(60_000);

let receiver: NotifyReceiver;
const rig = restartRig('agentvisor-notify-');

beforeEach(async () => {
  receiver = await NotifyReceiver.start();
});
afterEach(() => receiver.close());

test('exited (well and badly) and lost are sent, killed is not; a 500 is retried; nothing secret is sent or logged', async () => {
  receiver.answers.push(500);
  const { server, client } = await rig.up({ NOTIFY_URL: receiver.url() });
  const good = await call(client, 'session_start', { agent: 'codex', cwd: 'my-proj', task: 'exit 0' });
  await waitEnded(client, good.sessionId);
  await until(() => receiver.delivered().length === 1, 15_000, 'the first notification, after its 500');
  expect(receiver.received.map((r) => [r.status, r.body.event, r.body.sessionId])).toEqual([
    [500, 'exited', good.sessionId],
    [200, 'exited', good.sessionId],
  ]);
  expect(receiver.delivered()[0]).toEqual({
    event: 'exited',
    sessionId: good.sessionId,
    agent: 'codex',
    cwd: 'my-proj',
    status: 'exited',
    completedSuccessfully: true,
    summary: 'codex in my-proj finished successfully',
    at: expect.any(String),
  });

  const bad = await call(client, 'session_start', { agent: 'codex', cwd: 'my-proj', task: 'exit 3' });
  await waitEnded(client, bad.sessionId);
  const killed = await call(client, 'session_start', { agent: 'codex', cwd: 'k', task: 'silent' });
  await call(client, 'session_kill', { sessionId: killed.sessionId });
  await waitEnded(client, killed.sessionId);
  const lost = await call(client, 'session_start', { agent: 'codex', cwd: 'l', task: 'silent' });
  process.kill(journalRow(rig.dirs, lost.sessionId).worker_pid!, 'SIGKILL');
  await waitEnded(client, lost.sessionId);
  // A budget ends a session killed / budget_exceeded: its own event, not a silent kill.
  const budget = await call(client, 'session_start', { agent: 'claude-code', cwd: 'bud', task: 'slow 60000 never', limits: { maxDurationMs: 600 } });
  await waitEnded(client, budget.sessionId);
  await until(() => receiver.delivered().length === 4, 15_000, 'four notifications');
  const [, second, third, fourth] = receiver.delivered();
  expect(fourth).toMatchObject({ event: 'budget_exceeded', sessionId: budget.sessionId, status: 'killed', summary: expect.stringMatching(/^claude-code in bud stopped: budget exceeded/) });
  expect(second).toMatchObject({ event: 'exited', sessionId: bad.sessionId, completedSuccessfully: false, summary: expect.stringMatching(/^codex in my-proj finished unsuccessfully \(exit 3\)/) });
  expect(third).toMatchObject({ event: 'lost', sessionId: lost.sessionId, cwd: 'l', completedSuccessfully: false });
  expect(receiver.delivered().some((b) => b.sessionId === killed.sessionId)).toBe(false);
  const sent = JSON.stringify(receiver.received);
  expect(sent).not.toContain(TEST_TOKEN);
  expect(sent).not.toContain('silent'); // the task
  const logText = fs.readFileSync(`${rig.dirs.stateDir}/logs/agentvisor.log`, 'utf8');
  expect(logText).toContain('notification not delivered; retrying');
  expect(logText).not.toContain('topic-SECRET');
  await server.stop();
});

test('undelivered when the supervisor is SIGKILLed: the next supervisor delivers it', async () => {
  receiver.otherwise = 500;
  const first = await rig.up({ NOTIFY_URL: receiver.url() });
  const s = await call(first.client, 'session_start', { agent: 'codex', cwd: 'p', task: 'exit 0' });
  await waitEnded(first.client, s.sessionId);
  await until(() => receiver.received.length >= 1, 15_000, 'a failed attempt');
  expect(await health(first.server)).toMatchObject({ notificationsPending: 1 });
  await first.server.kill('SIGKILL');
  expect(receiver.delivered()).toEqual([]);
  expect(withJournal(rig.dirs, (db) => db.prepare('SELECT event, session_id, done_at FROM notifications').all())).toEqual([{ event: 'exited', session_id: s.sessionId, done_at: null }]);

  receiver.otherwise = 200;
  await rig.up({ NOTIFY_URL: receiver.url() });
  const outcomes = () => withJournal(rig.dirs, (db) => db.prepare('SELECT outcome FROM notifications').all());
  await until(() => JSON.stringify(outcomes()) === JSON.stringify([{ outcome: 'delivered' }]), 15_000, 'delivered after the restart');
  // At least once (a POST in flight at the SIGKILL may have arrived too), and only this end.
  expect(receiver.delivered().length).toBeGreaterThanOrEqual(1);
  for (const b of receiver.delivered()) expect(b).toMatchObject({ event: 'exited', sessionId: s.sessionId });
});
