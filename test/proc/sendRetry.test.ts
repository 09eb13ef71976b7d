/**
 * #12 item 4: a session_send to a worker stopped with SIGSTOP. The worker takes the
 * message once it runs again, after the supervisor has given up waiting; a client that
 * retried used to send it twice. Now the timed-out reply says the delivery is unknown,
 * and a retry with the same idempotencyKey is answered like the first, not delivered again.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WorkerTimeouts } from '../../src/shared/constants';
import { type Dirs, type RunningServer, call, callError, makeDirs, until } from '../helpers/server';
import { type Page, alive, cleanup, journalRow, up, waitEnded } from '../restart/support';

jest.setTimeout(WorkerTimeouts.requestMs + 60_000);

let dirs: Dirs;
let server: RunningServer | undefined;
let client: Client | undefined;
let stopped: number | null = null;

beforeEach(() => {
  dirs = makeDirs('agentvisor-sendretry-');
});
afterEach(async () => {
  if (stopped) process.kill(stopped, 'SIGCONT');
  stopped = null;
  expect(await cleanup(dirs, [server], [client])).toEqual([]);
});

async function outputText(c: Client, sessionId: string): Promise<string> {
  return (await call<Page>(c, 'session_output', { sessionId, since: 0, limit: 10_000 })).lines.join('\n');
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Ends a session still running and waits for its worker to go, so nothing outlives the test. */
async function endSession(c: Client, sessionId: string): Promise<void> {
  const worker = journalRow(dirs, sessionId).worker_pid;
  await call(c, 'session_kill', { sessionId });
  await waitEnded(c, sessionId);
  await until(() => !alive(worker), 10_000, 'the worker to exit');
}

test('a send to a stopped worker is "delivery unknown"; its retry with the same idempotencyKey is not delivered twice', async () => {
  ({ server, client } = await up(dirs));
  const c = client;
  // Claude (fake) keeps its input open while a slow answer is pending, so each send is delivered at once.
  const s = await call(c, 'session_start', { agent: 'claude-code', cwd: 's', task: 'slow 600000 hold' });
  const worker = journalRow(dirs, s.sessionId).worker_pid!;

  process.kill(worker, 'SIGSTOP');
  stopped = worker;
  const first = await call(c, 'session_send', { sessionId: s.sessionId, message: 'deliver me once', idempotencyKey: 'k-1' }, WorkerTimeouts.requestMs + 30_000);
  expect(first).toMatchObject({ delivered: false, queued: false, deliveryUnknown: true });
  expect(first.note).toMatch(/^delivery unknown/);
  expect(typeof first.inputId).toBe('string');

  process.kill(worker, 'SIGCONT');
  stopped = null;
  // The stopped worker took the message once it ran again.
  await until(async () => (await outputText(c, s.sessionId)).includes('echo: deliver me once'), 15_000, 'the late delivery');

  // The retry goes to the worker (the journal never heard of the first attempt), which remembers the key.
  const retry = await call(c, 'session_send', { sessionId: s.sessionId, message: 'deliver me once', idempotencyKey: 'k-1' });
  expect(retry).toMatchObject({ delivered: true, queued: false, duplicate: true, inputId: first.inputId });
  // Once more: now answered from the journal.
  const again = await call(c, 'session_send', { sessionId: s.sessionId, message: 'deliver me once', idempotencyKey: 'k-1' });
  expect(again).toMatchObject({ delivered: true, duplicate: true, inputId: first.inputId });

  // A barrier: a later message's answer comes after any second delivery's would have.
  const other = await call(c, 'session_send', { sessionId: s.sessionId, message: 'barrier', idempotencyKey: 'k-2' });
  expect(other).toMatchObject({ delivered: true });
  expect(other.duplicate).toBeUndefined();
  expect(other.inputId).not.toBe(first.inputId);
  await until(async () => (await outputText(c, s.sessionId)).includes('echo: barrier'), 15_000, 'the barrier answer');
  expect(count(await outputText(c, s.sessionId), 'echo: deliver me once')).toBe(1);
  await endSession(c, s.sessionId);
});

test('without a key, a send that times out is reported as delivery unknown (not failed), saying how to retry safely', async () => {
  ({ server, client } = await up(dirs));
  const c = client;
  const s = await call(c, 'session_start', { agent: 'claude-code', cwd: 'u', task: 'slow 600000 hold' });
  const worker = journalRow(dirs, s.sessionId).worker_pid!;
  process.kill(worker, 'SIGSTOP');
  stopped = worker;
  const reply = await call(c, 'session_send', { sessionId: s.sessionId, message: 'maybe' }, WorkerTimeouts.requestMs + 30_000);
  expect(reply).toMatchObject({ delivered: false, queued: false, deliveryUnknown: true });
  expect(reply.note).toMatch(/^delivery unknown: worker did not answer send within \d+ ms; the message may still arrive\. .*idempotencyKey/);
  process.kill(worker, 'SIGCONT');
  stopped = null;
  await until(async () => (await outputText(c, s.sessionId)).includes('echo: maybe'), 15_000, 'the late delivery');
  await endSession(c, s.sessionId);
});

test('a retried send with the same idempotencyKey after the session ended does not continue it twice', async () => {
  ({ server, client } = await up(dirs));
  const c = client;
  const s = await call(c, 'session_start', { agent: 'claude-code', cwd: 'e', task: 'first' });
  await until(async () => (await call<Page>(c, 'session_output', { sessionId: s.sessionId, since: 0 })).status === 'exited', 15_000, 'the first turn to end');
  const first = await call(c, 'session_send', { sessionId: s.sessionId, message: 'continue once', idempotencyKey: 'r-1' });
  expect(first).toMatchObject({ delivered: true, resumed: true });
  const retry = await call(c, 'session_send', { sessionId: s.sessionId, message: 'continue once', idempotencyKey: 'r-1' });
  expect(retry).toMatchObject({ delivered: true, resumed: true, duplicate: true, inputId: first.inputId });
  await until(async () => (await call<Page>(c, 'session_output', { sessionId: s.sessionId, since: 0 })).status === 'exited', 15_000, 'the second turn to end');
  expect(count(await outputText(c, s.sessionId), 'echo: continue once')).toBe(1);
});

test('an idempotencyKey that is empty or too long is refused with a clear error', async () => {
  ({ server, client } = await up(dirs));
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'v', task: 'slow 600000 hold' });
  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: 'x', idempotencyKey: '' })).toMatch(/idempotencyKey must not be empty/);
  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: 'x', idempotencyKey: 'k'.repeat(201) })).toMatch(/idempotencyKey must be at most 200 characters/);
  await endSession(client, s.sessionId);
});

test('a send that timed out, then was delivered, then the session ended: its retry does not continue the session with it again', async () => {
  ({ server, client } = await up(dirs));
  const c = client;
  // The first answer comes after 4 s; the session then ends once every message is answered.
  const s = await call(c, 'session_start', { agent: 'claude-code', cwd: 'l', task: 'slow 4000 first' });
  const worker = journalRow(dirs, s.sessionId).worker_pid!;
  process.kill(worker, 'SIGSTOP');
  stopped = worker;
  const first = await call(c, 'session_send', { sessionId: s.sessionId, message: 'late once', idempotencyKey: 'l-1' }, WorkerTimeouts.requestMs + 30_000);
  expect(first).toMatchObject({ deliveryUnknown: true });
  process.kill(worker, 'SIGCONT');
  stopped = null;
  await waitEnded(c, s.sessionId);
  expect(await outputText(c, s.sessionId)).toContain('echo: late once');
  // The worker, and its memory of keys, is gone: the retry must be answered from the journal.
  await until(() => !alive(worker), 10_000, 'the worker to exit');
  const retry = await call(c, 'session_send', { sessionId: s.sessionId, message: 'late once', idempotencyKey: 'l-1' });
  expect(retry).toMatchObject({ delivered: true, duplicate: true, inputId: first.inputId });
  expect(retry.resumed).toBeUndefined();
  expect((await call<Page>(c, 'session_output', { sessionId: s.sessionId, since: 0 })).status).toBe('exited');
  expect(count(await outputText(c, s.sessionId), 'echo: late once')).toBe(1);
});
