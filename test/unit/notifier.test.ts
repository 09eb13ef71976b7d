/**
 * The notifier in process, on a real SQLite journal and a real local HTTP receiver: which
 * status changes become which notification, what a payload holds (and never holds), retry with
 * backoff after a 500, one notification per end however often it is seen, the bounded queue,
 * and a notifier closed mid-delivery leaving the notification for the next one to send.
 * (test/integration/notify.test.ts runs it in the real supervisor with sessions that end.)
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Transport from 'winston-transport';
import winston from 'winston';
import { Journal } from '../../src/supervisor/journal';
import { JournalGuard } from '../../src/supervisor/journalGuard';
import { Notifier, NOTIFY_EVENTS, type NotifyEvent } from '../../src/supervisor/notifier';
import { NotifyStore } from '../../src/supervisor/notifyStore';
import { until } from '../helpers/server';
import { NotifyReceiver } from '../support/notifyReceiver';

/** Generous: a loaded 2-core box may take seconds per POST. */
const UNTIL_MS = 15_000;
/** Retries in milliseconds (the backoff's shape is what is tested); the request timeout stays the real one, so a slow box never aborts a POST the receiver already took. */
const FAST = { firstRetryMs: 20, maxRetryMs: 200 };

jest.setTimeout(60_000);

let dir: string;
let journal: Journal;
let receiver: NotifyReceiver;
let logged: string[];
let log: winston.Logger;
let sessions: EventEmitter;
const notifiers: Notifier[] = [];

class Capture extends Transport {
  override log(info: any, next: () => void) {
    logged.push(JSON.stringify(info));
    next();
  }
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-notify-'));
  journal = new Journal(path.join(dir, 'journal.db'));
  receiver = await NotifyReceiver.start();
  logged = [];
  log = winston.createLogger({ level: 'debug', transports: [new Capture()] });
  sessions = new EventEmitter();
});

afterEach(async () => {
  for (const n of notifiers.splice(0)) n.close();
  await receiver.close();
  journal.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function notifier(events: readonly NotifyEvent[] = NOTIFY_EVENTS): Notifier {
  const guard = new JournalGuard(log, () => undefined);
  const n = new Notifier(journal, guard, log, { url: receiver.url(), events, version: '9.9.9', timeouts: FAST });
  notifiers.push(n);
  n.start(sessions);
  return n;
}

let seq = 0;
/** A journalled session that reached `status`, then the core's lifecycle event for it. */
function end(status: string, o: { endReason?: string; ok?: boolean; exitCode?: number; error?: string; detail?: Record<string, unknown>; id?: string } = {}): string {
  const id = o.id ?? `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
  if (!journal.get(id)) {
    journal.insertSession({
      id,
      agent: 'claude-code',
      cwd: '/home/u/work/my-repo',
      task: 'the task, never sent',
      model: null,
      mode: 'full',
      socket_path: '/s',
      session_dir: '/d',
      secret: 'worker-secret-0123456789',
    });
  }
  journal.db
    .prepare('UPDATE sessions SET status = ?, ended_at = ?, end_reason = ?, completed_successfully = ?, exit_code = ?, error_summary = ? WHERE id = ?')
    .run(status, status === 'awaiting_approval' ? null : '2026-12-05T03:00:00.000Z', o.endReason ?? null, o.ok === undefined ? null : o.ok ? 1 : 0, o.exitCode ?? null, o.error ?? null, id);
  sessions.emit('lifecycle', id, status as never, o.detail ?? { endReason: o.endReason ?? null });
  return id;
}

test('each status change becomes its event; killed and running are not news; the payload is the small one', async () => {
  notifier();
  const exited = end('exited', { ok: true, exitCode: 0 });
  const failedRun = end('exited', { ok: false, exitCode: 3, error: 'first line of the error\nsecond line with OUTPUT-NOT-SENT' });
  const failed = end('failed', { endReason: 'spawn_failed', error: 'claude: not found' });
  const lost = end('lost', { endReason: 'worker_lost' });
  const budget = end('killing', { endReason: 'budget_exceeded' }); // on its way: not yet news
  end('killed', { endReason: 'budget_exceeded', error: 'maxCostUsd 0.01 reached', id: budget });
  const waiting = end('running', { detail: { event: 'started' } });
  // Mode ask's request, as the session core reports it (issue 15's 'approval' event).
  sessions.emit('approval', waiting, { event: 'approval_pending', approvalId: 'ap-1', kind: 'Bash', summary: 'Bash: rm -rf OUTPUT-NOT-SENT' });
  end('killed', { endReason: 'killed' });
  end('running', { detail: { event: 'started' } });
  await until(() => receiver.received.length === 6, UNTIL_MS, 'six notifications');
  await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
  const bodies = receiver.delivered();
  expect(bodies.map((b) => [b.event, b.sessionId])).toEqual([
    ['exited', exited],
    ['exited', failedRun],
    ['failed', failed],
    ['lost', lost],
    ['budget_exceeded', budget],
    ['awaiting_approval', waiting],
  ]);
  expect(bodies[0]).toEqual({
    event: 'exited',
    sessionId: exited,
    agent: 'claude-code',
    cwd: 'my-repo',
    status: 'exited',
    completedSuccessfully: true,
    summary: 'claude-code in my-repo finished successfully',
    at: expect.any(String),
  });
  expect(bodies[1]).toMatchObject({ completedSuccessfully: false, summary: 'claude-code in my-repo finished unsuccessfully (exit 3): first line of the error' });
  expect(bodies[4].summary).toBe('claude-code in my-repo stopped: budget exceeded: maxCostUsd 0.01 reached');
  expect(bodies[5]).toMatchObject({ status: 'awaiting_approval', summary: 'claude-code in my-repo is waiting for an approval (Bash)' });
  const raw = JSON.stringify(receiver.received);
  for (const never of ['OUTPUT-NOT-SENT', 'the task, never sent', 'worker-secret']) expect(raw).not.toContain(never);
  expect(receiver.received[0].headers).toMatchObject({ 'content-type': 'application/json', title: 'agentvisor: exited', 'user-agent': 'agentvisor/9.9.9' });
});

test('NOTIFY_EVENTS filters; an end seen twice (re-attach after a restart) is sent once, an approval request too; resolved is not news', async () => {
  notifier(['exited', 'awaiting_approval']);
  end('lost');
  const id = end('exited', { ok: true });
  end('exited', { ok: true, id, detail: { event: 're_attached' } });
  const w = end('running', { detail: { event: 'started' } });
  sessions.emit('approval', w, { event: 'approval_pending', approvalId: 'ap-1', kind: 'Write' });
  sessions.emit('approval', w, { event: 'approval_pending', approvalId: 'ap-1', kind: 'Write' });
  sessions.emit('approval', w, { event: 'approval_resolved', approvalId: 'ap-1', decision: 'allow' });
  sessions.emit('approval', w, { event: 'approval_pending', approvalId: 'ap-2', kind: 'Write' });
  await until(() => receiver.received.length === 3, UNTIL_MS, 'three notifications');
  await new Promise((r) => setTimeout(r, 100));
  expect(receiver.received.map((r) => [r.body.event, r.body.sessionId])).toEqual([
    ['exited', id],
    ['awaiting_approval', w],
    ['awaiting_approval', w],
  ]);
});

test('a 500 is retried with backoff until delivered; the log names the host, never the URL', async () => {
  receiver.answers.push(500, 503);
  notifier();
  const id = end('exited', { ok: true });
  await until(() => receiver.delivered().length === 1, UNTIL_MS, 'delivered after two failures');
  expect(receiver.received.map((r) => r.status)).toEqual([500, 503, 200]);
  expect(receiver.received.every((r) => r.body.sessionId === id)).toBe(true);
  // The receiver answers before the notifier records the answer: wait for the record.
  const row = () => journal.db.prepare('SELECT attempts, outcome, last_error FROM notifications').get() as { outcome: string | null };
  await until(() => row().outcome === 'delivered', UNTIL_MS, 'the delivery recorded');
  expect(row()).toEqual({ attempts: 3, outcome: 'delivered', last_error: 'HTTP 503' });
  expect(logged.some((l) => l.includes('retrying') && l.includes('HTTP 500'))).toBe(true);
  expect(logged.join('\n')).not.toContain('topic-SECRET');
});

test('an answer whose body never ends is delivered, not read until the request times out', async () => {
  receiver.endlessBody = true;
  notifier();
  end('exited', { ok: true });
  const row = () => journal.db.prepare('SELECT attempts, outcome, last_error FROM notifications').get() as { outcome: string | null } | undefined;
  // Well inside the 10 s request timeout a body read to the end would run into.
  await until(() => row()?.outcome === 'delivered', UNTIL_MS, 'the delivery recorded');
  expect(row()).toEqual({ attempts: 1, outcome: 'delivered', last_error: null });
});

test('credentials in NOTIFY_URL become an Authorization header; a failure is logged without the URL', async () => {
  const guard = new JournalGuard(log, () => undefined);
  const withAuth = receiver.url().replace('http://', 'http://alice:pa%3Ass@');
  const n = new Notifier(journal, guard, log, { url: withAuth, events: NOTIFY_EVENTS, version: '1', timeouts: FAST });
  notifiers.push(n);
  n.start(sessions);
  end('lost');
  await until(() => receiver.delivered().length === 1, UNTIL_MS, 'delivered with credentials');
  expect(receiver.received[0].headers.authorization).toBe(`Basic ${Buffer.from('alice:pa:ss').toString('base64')}`);
  expect(receiver.received[0].path).toBe('/topic-SECRET-xyz');

  // An endpoint that refuses connections: the error is the code, never fetch's message quoting the URL.
  const port = Number(new URL(receiver.url()).port);
  await receiver.close();
  const down = new Notifier(journal, guard, log, { url: `http://bob:hunter2@127.0.0.1:${port}/topic-SECRET-xyz`, events: NOTIFY_EVENTS, version: '1', timeouts: FAST });
  notifiers.push(down);
  down.start(sessions);
  end('lost');
  await until(() => logged.some((l) => l.includes('ECONNREFUSED')), UNTIL_MS, 'a refused attempt logged');
  for (const secret of ['hunter2', 'topic-SECRET', 'pa:ss', 'pa%3Ass']) expect(logged.join('\n')).not.toContain(secret);
  receiver = await NotifyReceiver.start(); // afterEach closes one
});

test('closed mid-retry, the notification stays in the journal and the next notifier sends it at once', async () => {
  receiver.otherwise = 500;
  const first = notifier();
  const id = end('lost');
  await until(() => receiver.received.length >= 1, UNTIL_MS, 'a failed attempt');
  first.close();
  expect(first.pending()).toBe(1);
  receiver.otherwise = 200;
  notifier();
  await until(() => (journal.db.prepare('SELECT outcome FROM notifications').get() as { outcome: string } | undefined)?.outcome === 'delivered', UNTIL_MS, 'delivered by the next notifier');
  // At least once: a POST cut short by close() may have reached the receiver too (it cannot say it did not).
  expect(receiver.delivered().length).toBeGreaterThanOrEqual(1);
  for (const b of receiver.delivered()) expect(b).toMatchObject({ event: 'lost', sessionId: id });
});

test('a journal that cannot be written does not turn a failed delivery into a loop of resends', async () => {
  receiver.otherwise = 500;
  const guard = new JournalGuard(log, () => undefined);
  const n = new Notifier(journal, guard, log, { url: receiver.url(), events: NOTIFY_EVENTS, version: '1', timeouts: { firstRetryMs: 20, maxRetryMs: 60_000 } });
  notifiers.push(n);
  try {
    // Queued by a previous run; then writes are refused, as on a full disk: no attempt's outcome can be recorded, so the row stays due.
    new NotifyStore(journal).add({ dedupeKey: 'k', sessionId: null, event: 'lost', payload: '{"event":"lost"}' });
    journal.db.pragma('query_only = ON');
    n.start(sessions);
    await until(() => receiver.received.length >= 1, UNTIL_MS, 'the first attempt');
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives: the next try waits out the backoff
    expect(receiver.received).toHaveLength(1);
    expect(guard.unwritable).not.toBeNull();
  } finally {
    guard.close();
    journal.db.pragma('query_only = OFF');
  }
});

test('the queue is bounded: past the limit the oldest undelivered are dropped', () => {
  const store = new NotifyStore(journal);
  for (let i = 0; i < 5; i++) store.add({ dedupeKey: `k${i}`, sessionId: null, event: 'exited', payload: String(i) });
  expect(store.add({ dedupeKey: 'k4', sessionId: null, event: 'exited', payload: 'again' })).toBe(false);
  expect(store.dropBeyond(3)).toBe(2);
  expect(store.pendingCount()).toBe(3);
  expect(store.nextDue(new Date(Date.now() + 1000).toISOString())?.payload).toBe('2');
});
