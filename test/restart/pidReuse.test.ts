/**
 * A journal row names a worker (and agent) by pid plus kernel start time. When
 * the pid now belongs to an unrelated process (pid reuse after the worker
 * died), the new supervisor must neither adopt nor kill it: the session is lost.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { call, leftovers, until } from '../helpers/server';
import { alive, closeQuietly, eventKinds, journalRow, lineCount, logLine, pendingSignals, restartRig, startTick, startTime, withJournal } from './support';

jest.setTimeout(60_000);

const strangers: ChildProcess[] = [];

const rig = restartRig('agentvisor-pidreuse-', {
  beforeCleanup: () => {
    for (const p of strangers.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  },
});

/** An unrelated process, outside the test's directories. */
async function stranger(): Promise<ChildProcess> {
  const p = spawn('sleep', ['60'], { cwd: os.tmpdir(), stdio: 'ignore' });
  strangers.push(p);
  await until(() => startTime(p.pid!) !== null, 5_000, 'sleep to start');
  return p;
}

test('a row whose worker and agent pids now belong to unrelated processes is not adopted, and those processes are left alone', async () => {
  const first = await rig.up();
  const s = await startTick(first.client, 100_000, 5);
  await until(async () => (await lineCount(first.client, s.sessionId)) > 20, 10_000, 'output');
  await closeQuietly(first.client);
  expect(await first.server.stop()).toBe(0);

  // The worker and its agent die while no supervisor watches …
  const row = journalRow(rig.dirs, s.sessionId);
  expect(row.status).toBe('running');
  expect(row.worker_start_time).not.toBeNull();
  // Worker first: killed second, it could record the agent's death as an outcome.
  for (const pid of [row.worker_pid!, row.agent_pid!]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      // A confined agent (issue 16) dies with its worker, possibly before this second kill.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  await until(() => !alive(row.worker_pid) && !alive(row.agent_pid), 5_000, 'worker and agent to die');

  // … and their pids are reused by unrelated processes. (We cannot pick a pid, so the row is pointed at
  // the strangers instead; the recorded start times stay the old ones, as they would after real reuse.)
  const [w, a] = [await stranger(), await stranger()];
  withJournal(rig.dirs, (db) => db.prepare('UPDATE sessions SET worker_pid = ?, agent_pid = ? WHERE id = ?').run(w.pid, a.pid, s.sessionId), { readonly: false });
  expect(startTime(w.pid!)).not.toBe(row.worker_start_time);

  const second = await rig.up();
  expect(logLine(second.server.stderr(), 'journal reconciled')).toMatchObject({ reattached: 0, lost: 1 });
  const info = (await call(second.client, 'session_list')).sessions[0];
  expect(info).toMatchObject({ sessionId: s.sessionId, status: 'lost', endReason: 'worker_lost' });
  // The summary must not claim an agent was killed: nothing was.
  expect(info.errorSummary).toBe(`worker process ${w.pid} died without recording an outcome`);
  expect(eventKinds(rig.dirs, s.sessionId)).not.toContain('re_attached');

  // The strangers were neither adopted nor signalled. Any kill would have been sent before the row was
  // marked lost (reconcileDead), so now each is either gone, has the signal pending, or was never signalled.
  expect(alive(w.pid)).toBe(true);
  expect(alive(a.pid)).toBe(true);
  expect(pendingSignals(w.pid)).toBe(0n);
  expect(pendingSignals(a.pid)).toBe(0n);
  expect(w.exitCode).toBeNull();
  expect(a.exitCode).toBeNull();

  // The output up to the crash is still readable from disk.
  const page = await call(second.client, 'session_output', { sessionId: s.sessionId, since: 0 });
  expect(page.lines.filter((l: string) => l.startsWith('tick ')).length).toBeGreaterThan(10);

  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  expect(leftovers(rig.dirs)).toEqual([]);
});

test('a row with no worker pid (supervisor killed inside session_start) adopts the worker found on its socket', async () => {
  const first = await rig.up();
  const s = await startTick(first.client, 100_000, 5);
  await until(async () => (await lineCount(first.client, s.sessionId)) > 20, 10_000, 'output');
  await first.server.kill();
  await closeQuietly(first.client);
  const row = journalRow(rig.dirs, s.sessionId);
  // As the journal is when the supervisor dies after launching the worker but before journalling it.
  withJournal(rig.dirs, (db) => db.prepare('UPDATE sessions SET worker_pid = NULL, worker_start_time = NULL, agent_pid = NULL, agent_start_time = NULL WHERE id = ?').run(s.sessionId), {
    readonly: false,
  });

  const second = await rig.up();
  expect(logLine(second.server.stderr(), 'journal reconciled')).toMatchObject({ reattached: 1, lost: 0 });
  // The worker proved itself with the row's secret; its pids are journalled again.
  expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({
    status: 'running',
    worker_pid: row.worker_pid,
    worker_start_time: row.worker_start_time,
    agent_pid: row.agent_pid,
  });
  const n = await lineCount(second.client, s.sessionId);
  await until(async () => (await lineCount(second.client, s.sessionId)) > n + 20, 10_000, 'output to continue');
  expect((await call(second.client, 'session_kill', { sessionId: s.sessionId })).status).toBe('killed');
  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  await until(() => leftovers(rig.dirs).length === 0, 5_000, 'no process left').catch(() => undefined);
  expect(leftovers(rig.dirs)).toEqual([]);
});

test('a worker whose supervisor stopped listening before it reported ready does not start its agent', async () => {
  // 1 ms: the supervisor gives up (and closes the ready pipe) long before any worker can boot.
  const { server, client } = await rig.up({ WORKER_READY_TIMEOUT: '1' });
  const res = await client.callTool({ name: 'session_start', arguments: { agent: 'codex', cwd: 'p', task: 'tick 100000 5' } });
  expect(res.isError).toBe(true);
  expect((res.content as Array<{ text: string }>)[0].text).toMatch(/did not report ready within 1 ms/);
  const row = withJournal(rig.dirs, (db) => db.prepare('SELECT * FROM sessions').get() as { id: string; status: string; session_dir: string });
  expect(row.status).toBe('failed');
  // The worker boots anyway, finds nobody listening, and exits without running the agent unsupervised.
  const log = `${row.session_dir}/worker.log`;
  await until(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('not starting the agent'), 15_000, 'the worker to give up');
  await until(() => leftovers(rig.dirs).every((pid) => pid === server.proc.pid), 10_000, 'the worker to exit');
  expect(fs.readFileSync(log, 'utf8')).not.toContain('agent started');
  await closeQuietly(client);
  expect(await server.stop()).toBe(0);
  expect(leftovers(rig.dirs)).toEqual([]);
});
