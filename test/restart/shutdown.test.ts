/**
 * Graceful shutdown: SIGTERM stops the supervisor and leaves every worker
 * running for the next one; AGENTVISOR_KILL_SESSIONS_ON_EXIT=1 (on SIGTERM) or
 * SIGUSR2 instead ends every session first — SIGTERM to each agent, SIGKILL
 * after KILL_GRACE for one that ignores it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Dirs, call, leftovers, until } from '../helpers/server';
import { alive, closeQuietly, expectConsecutive, journalRow, lineCount, logLine, readAll, restartRig, startTick, tickNumbers, withJournal } from './support';

jest.setTimeout(60_000);

const rig = restartRig('agentvisor-shutdown-');

const supervisorEvents = (d: Dirs) =>
  withJournal(d, (db) => db.prepare('SELECT kind, detail FROM events WHERE session_id IS NULL ORDER BY id').all() as Array<{ kind: string; detail: string | null }>);

test('SIGTERM stops the supervisor gracefully and leaves the workers running; the next supervisor re-attaches them', async () => {
  const first = await rig.up();
  const a = await startTick(first.client, 100_000, 5, 'a');
  const b = await startTick(first.client, 100_000, 5, 'b');
  await until(async () => (await lineCount(first.client, a.sessionId)) > 20 && (await lineCount(first.client, b.sessionId)) > 20, 10_000, 'output');
  const rows = [journalRow(rig.dirs, a.sessionId), journalRow(rig.dirs, b.sessionId)];
  expect(fs.existsSync(path.join(rig.dirs.stateDir, 'server.json'))).toBe(true);

  // SIGTERM with a client still connected: its connection is closed, not waited on forever.
  expect(await first.server.stop()).toBe(0);
  await closeQuietly(first.client);
  expect(logLine(first.server.stderr(), 'stopping')).toMatchObject({ signal: 'SIGTERM', killSessions: false });
  expect(fs.existsSync(path.join(rig.dirs.stateDir, 'server.json'))).toBe(false);
  expect(supervisorEvents(rig.dirs).map((e) => e.kind)).toEqual(['supervisor_started', 'supervisor_stopped']);
  for (const r of rows) {
    expect(r.status).toBe('running');
    expect(alive(r.worker_pid)).toBe(true);
    expect(alive(r.agent_pid)).toBe(true);
  }

  const second = await rig.up();
  expect(logLine(second.server.stderr(), 'listening')).toMatchObject({ reattached: 2 });
  for (const r of rows) {
    const n = await lineCount(second.client, r.id);
    await until(async () => (await lineCount(second.client, r.id)) > n + 20, 10_000, 'output to continue');
    expectConsecutive(tickNumbers((await readAll(second.client, r.id)).lines));
    expect((await call(second.client, 'session_kill', { sessionId: r.id })).status).toBe('killed');
  }
  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  expect(leftovers(rig.dirs)).toEqual([]);
});

test.each([
  ['SIGTERM with AGENTVISOR_KILL_SESSIONS_ON_EXIT=1', 'SIGTERM', { AGENTVISOR_KILL_SESSIONS_ON_EXIT: '1' }],
  ['SIGUSR2', 'SIGUSR2', {}],
] as const)('%s ends every session: SIGTERM, then SIGKILL after KILL_GRACE', async (_name, signal, extraEnv) => {
  const { server, client } = await rig.up({ KILL_GRACE: '1000', ...extraEnv });
  const polite = await startTick(client, 100_000, 5, 'polite');
  const stubborn = await call(client, 'session_start', { agent: 'codex', cwd: 'stubborn', task: 'ignore-term' });
  await until(async () => (await lineCount(client, polite.sessionId)) > 10, 10_000, 'output');
  const rows = [journalRow(rig.dirs, polite.sessionId), journalRow(rig.dirs, stubborn.sessionId)];

  const t0 = Date.now();
  const exited = new Promise<number | null>((resolve) => server.proc.once('exit', (c) => resolve(c)));
  server.proc.kill(signal);
  const code = await exited;
  const tookMs = Date.now() - t0;
  if (code !== 0) process.stdout.write(server.stderr());
  expect(code).toBe(0);
  expect(logLine(server.stderr(), 'stopping')).toMatchObject({ signal, killSessions: true });
  // The stubborn agent held the shutdown for its grace period, and no longer.
  expect(tookMs).toBeGreaterThanOrEqual(900);
  expect(tookMs).toBeLessThan(8_000);

  const [p, s] = [journalRow(rig.dirs, polite.sessionId), journalRow(rig.dirs, stubborn.sessionId)];
  expect(p).toMatchObject({ status: 'killed', end_reason: 'shutdown', signal: 'SIGTERM' });
  expect(s).toMatchObject({ status: 'killed', end_reason: 'shutdown', signal: 'SIGKILL' });
  await until(() => rows.every((r) => !alive(r.worker_pid) && !alive(r.agent_pid)), 5_000, 'workers and agents to exit');
  await closeQuietly(client);
  expect(leftovers(rig.dirs)).toEqual([]);
  expect(supervisorEvents(rig.dirs).pop()).toMatchObject({ kind: 'supervisor_stopped' });
  expect(JSON.parse(supervisorEvents(rig.dirs).pop()!.detail!)).toEqual({ signal, killSessions: true });
});
