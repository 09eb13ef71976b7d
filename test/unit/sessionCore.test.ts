/**
 * The session core in-process: SessionManager with its launcher and connector
 * injected, against FakeWorker (the real IPC protocol over a Unix socket, the
 * real WorkerClient and journal). Timings are shrunk so each case takes
 * milliseconds; every wait is on an event, never a sleep.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Journal } from '../../src/supervisor/journal';
import type { SessionManager } from '../../src/supervisor/sessionManager';
import { disposeCore, makeCore } from './support/coreRig';
import type { FakeWorker } from './support/fakeWorker';

let dir: string;
let journal: Journal;
let workers: FakeWorker[];
let core: SessionManager;

function build(greeting: string[] = ['hello from the agent']): void {
  ({ journal, core } = makeCore(dir, workers, greeting));
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-core-'));
  fs.mkdirSync(path.join(dir, 'ws'));
  workers = [];
  build();
});

afterEach(() => disposeCore(core, workers, journal, dir));

const start = () => core.start({ agent: 'claude-code', cwd: path.join(dir, 'ws'), task: 'do it', mode: 'edit' });

/** Resolves with the detail of the next lifecycle event of this kind. */
function nextLifecycle(event: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (_id: string, _status: string, detail: Record<string, unknown>) => {
      if (detail.event !== event) return;
      core.off('lifecycle', on);
      resolve(detail);
    };
    core.on('lifecycle', on);
  });
}

test('start journals the session, connects, and returns its first output', async () => {
  const { info, initialOutput } = await start();
  expect(info.status).toBe('running');
  expect(initialOutput.lines).toEqual(['hello from the agent']);
  expect(journal.get(info.sessionId)?.status).toBe('running');
  expect(workers).toHaveLength(1);
  expect(workers[0].pid).toBe(journal.get(info.sessionId)?.worker_pid);
});

test('send delivers through the worker and journals the input; read pages it back', async () => {
  const { info } = await start();
  const reply = await core.send(info.sessionId, 'hi', false);
  expect(reply).toMatchObject({ delivered: true, queued: false });
  expect(reply.inputId).toMatch(/^[0-9a-f-]{36}$/);
  const page = await core.read(info.sessionId, 0, 10, 10_000);
  expect(page.lines).toEqual(['hello from the agent', 'you said: hi']);
  expect(page.nextOffset).toBe(2);
});

test("a wait is woken by the worker's output event, not by its timeout", async () => {
  const { info } = await start();
  const waiting = core.wait(info.sessionId, 1, 30_000, 10, 10_000);
  workers[0].print('line two');
  const page = await waiting;
  expect(page.timedOut).toBe(false);
  expect(page.lines).toEqual(['line two']);
});

test('a wait is answered from the lines the output event carried, without a read round trip to the worker', async () => {
  const { info } = await start();
  workers[0].sendTails = true;
  workers[0].print('line two');
  const reads = () => workers[0].seen.filter((m) => m === 'read').length;
  const before = reads();
  const waiting = core.wait(info.sessionId, 2, 30_000, 10, 10_000);
  workers[0].print('line three', 'line four');
  const page = await waiting;
  expect(page).toMatchObject({ lines: ['line three', 'line four'], offset: 2, nextOffset: 4, dropped: 0, hasMore: false, status: 'running', timedOut: false });
  const paged = await core.read(info.sessionId, 1, 2, 10_000);
  expect(paged).toMatchObject({ lines: ['line two', 'line three'], offset: 1, nextOffset: 3, hasMore: true });
  expect(reads()).toBe(before);
});

test('lines the supervisor was not sent (an event without them, an older offset) are read from the worker', async () => {
  const { info } = await start();
  workers[0].sendTails = true;
  workers[0].print('two');
  workers[0].sendTails = false;
  workers[0].print('three'); // a burst too big to carry: the event has no tail
  workers[0].sendTails = true;
  const waiting = core.wait(info.sessionId, 3, 30_000, 10, 10_000);
  workers[0].print('four');
  expect((await waiting).lines).toEqual(['four']);
  const reads = () => workers[0].seen.filter((m) => m === 'read').length;
  const before = reads();
  expect((await core.read(info.sessionId, 1, 10, 10_000)).lines).toEqual(['two', 'three', 'four']);
  expect((await core.read(info.sessionId, 0, 10, 10_000)).lines).toEqual(['hello from the agent', 'two', 'three', 'four']);
  expect(reads()).toBe(before + 2);
});

test('kill ends the session; the journal and info say killed; a second kill says it had ended', async () => {
  const { info } = await start();
  const killed = await core.kill(info.sessionId);
  expect(killed.status).toBe('killed');
  expect(journal.get(info.sessionId)?.status).toBe('killed');
  expect(await core.waitEnded(info.sessionId, 10)).toBe(true);
  expect((await core.kill(info.sessionId)).note).toMatch(/already ended/);
});

test('an ended session continues in a new worker under the same id', async () => {
  const { info } = await start();
  workers[0].end();
  expect(await core.waitEnded(info.sessionId, 5_000)).toBe(true);
  const reply = await core.send(info.sessionId, 'again', false);
  expect(reply).toMatchObject({ delivered: true, resumed: true });
  expect(workers).toHaveLength(2);
  expect(core.info(info.sessionId).status).toBe('running');
});

test('a dropped connection to a live worker is re-established; a wait pending across it is still woken', async () => {
  const { info } = await start();
  const waiting = core.wait(info.sessionId, 1, 30_000, 10, 10_000);
  const reattached = once(workers[0], 'attached');
  workers[0].dropConnection();
  await reattached;
  workers[0].print('after the drop');
  expect((await waiting).lines).toEqual(['after the drop']);
  expect(journal.events(info.sessionId).some((e) => e.kind === 're_attached' && (e.detail ?? '').includes('connection drop'))).toBe(true);
});

test('a session that ended while the connection was down is told (lifecycle) once the connection is back', async () => {
  const { info } = await start();
  const told = new Promise<string>((resolve) => core.on('lifecycle', (id, status) => id === info.sessionId && status === 'exited' && resolve(status)));
  workers[0].dropConnection();
  workers[0].end('exited'); // not delivered: no connection; the re-established one's hello carries it
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([told, new Promise((r) => (timer = setTimeout(() => r('no lifecycle event'), 10_000)))]);
  clearTimeout(timer);
  expect(outcome).toBe('exited');
  expect(journal.get(info.sessionId)?.status).toBe('exited');
});

test('a worker gone for good is reconciled: the session is lost and its waiters are answered', async () => {
  const { info } = await start();
  const ended = core.waitEnded(info.sessionId, 30_000);
  await workers[0].dispose();
  expect(await ended).toBe(true);
  expect(core.info(info.sessionId).status).toBe('lost');
});

test('a worker that stays connected but stops answering is reported unresponsive, then healthy when it answers', async () => {
  const { info } = await start();
  const unresponsive = nextLifecycle('worker_unresponsive');
  workers[0].hang();
  await unresponsive;
  expect(core.info(info.sessionId).workerUnresponsive).toBe(true);
  expect(core.problems()).toEqual([expect.stringMatching(new RegExp(`session ${info.sessionId}: worker ${workers[0].pid} connected but not answering`))]);
  expect(journal.get(info.sessionId)?.status).toBe('running'); // reported, not ended (heartbeat.ts says why)

  const healthy = nextLifecycle('worker_responsive');
  workers[0].unhang();
  await healthy;
  expect(core.info(info.sessionId).workerUnresponsive).toBeUndefined();
  expect(core.problems()).toEqual([]);
  const kinds = journal.events(info.sessionId).map((e) => e.kind);
  expect(kinds).toEqual(expect.arrayContaining(['worker_unresponsive', 'worker_responsive']));
});

test('close answers pending waits at once instead of leaving them to their timeout', async () => {
  const { info } = await start();
  const waiting = core.wait(info.sessionId, 1, 30_000, 10, 10_000);
  const ending = core.waitEnded(info.sessionId, 30_000);
  await core.close({ killSessions: false });
  expect(await ending).toBe(false);
  expect((await waiting).timedOut).toBe(true);
});

test('a new core over the same journal re-attaches to a live worker and reconciles a dead one', async () => {
  const a = (await start()).info.sessionId;
  const b = (await start()).info.sessionId;
  await core.close({ killSessions: false });
  journal.close();
  await workers[1].dispose(); // b's worker died while no supervisor watched
  build();
  expect(await core.reattachAll()).toEqual({ reattached: 1, lost: 1, ended: 0 });
  expect(core.info(b).status).toBe('lost');
  expect(core.info(a).status).toBe('running');
  const waiting = core.wait(a, 1, 30_000, 10, 10_000);
  workers[0].print('still here');
  expect((await waiting).lines).toEqual(['still here']);
});
