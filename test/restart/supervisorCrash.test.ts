/**
 * The supervisor dies hard (SIGKILL) mid-stream; a new one on the same
 * STATE_DIR re-attaches to the still-running worker, and the session's output
 * reads from offset 0 as one unbroken numbered sequence across the gap.
 */
import { call, leftovers, until } from '../helpers/server';
import { alive, closeQuietly, eventKinds, expectConsecutive, journalRow, lineCount, logLine, readAll, restartRig, startTick, tickNumbers, waitEnded } from './support';

jest.setTimeout(60_000);

const rig = restartRig('agentvisor-restart-');

test('SIGKILL of the supervisor: the new one re-attaches and output continues with no gap and no duplicate', async () => {
  const first = await rig.up();
  const started = await startTick(first.client, 2000, 5);
  const id = started.sessionId;
  const before = journalRow(rig.dirs, id);
  expect(before.status).toBe('running');
  expect(alive(before.worker_pid)).toBe(true);

  // Let it get going, read what there is, then kill the supervisor in the middle of the stream.
  await until(async () => (await lineCount(first.client, id)) > 200, 15_000, '200 lines');
  const early = tickNumbers((await readAll(first.client, id)).lines);
  expect(early.length).toBeGreaterThan(100);
  expectConsecutive(early);
  await first.server.kill();
  await closeQuietly(first.client);
  const killedAt = Date.now();

  // The worker and the agent do not notice beyond losing the connection.
  expect(alive(before.worker_pid)).toBe(true);
  expect(alive(before.agent_pid)).toBe(true);

  const second = await rig.up();
  const list = await call<{ sessions: Array<{ sessionId: string; status: string; pid: number | null }> }>(second.client, 'session_list');
  expect(list.sessions).toHaveLength(1);
  expect(list.sessions[0]).toMatchObject({ sessionId: id, status: 'running', pid: before.agent_pid });
  const gapMs = Date.now() - killedAt;

  // Mid-run after the restart: everything from 0, consecutive, and more than before the kill.
  const mid = tickNumbers((await readAll(second.client, id)).lines);
  expect(mid.length).toBeGreaterThan(early.length);
  expectConsecutive(mid);
  expect(mid.slice(0, early.length)).toEqual(early);

  // Run to the end: all 2000 ticks, exactly once each, in order.
  const endPage = await waitEnded(second.client, id, 40_000);
  expect(endPage).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  const { lines } = await readAll(second.client, id);
  const all = tickNumbers(lines);
  expect(all).toHaveLength(2000);
  expectConsecutive(all);
  // The header lines are there once, before the ticks.
  expect(lines.filter((l) => l.startsWith('session id:'))).toHaveLength(1);

  const row = journalRow(rig.dirs, id);
  expect(row).toMatchObject({ status: 'exited', end_reason: 'exited', exit_code: 0, worker_pid: before.worker_pid });
  const kinds = eventKinds(rig.dirs, id);
  expect(kinds).toEqual(expect.arrayContaining(['created', 'started', 're_attached', 'exited']));
  expect(kinds.filter((k) => k === 'created')).toHaveLength(1);
  // Clean exit: the worker goes once its outcome is journalled, the agent is gone.
  await until(() => !alive(before.worker_pid) && !alive(before.agent_pid), 10_000, 'worker and agent to exit');
  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  expect(leftovers(rig.dirs)).toEqual([]);
  process.stdout.write(`supervisor restart gap: ${gapMs} ms; ${all.length} ticks read across it\n`);
});

test('a continued (resumed) session runs in a new worker; that worker is re-attached after a SIGKILL of the supervisor too', async () => {
  const first = await rig.up();
  const s = await startTick(first.client, 30, 5);
  const id = s.sessionId;
  expect((await waitEnded(first.client, id)).status).toBe('exited');
  const firstRun = journalRow(rig.dirs, id);
  const sent = await call(first.client, 'session_send', { sessionId: id, message: 'tick 1500 5' });
  expect(sent).toMatchObject({ delivered: true, resumed: true });
  const resumed = journalRow(rig.dirs, id);
  expect(resumed.status).toBe('running');
  expect(resumed.worker_pid).not.toBe(firstRun.worker_pid);
  const before = await lineCount(first.client, id);
  await until(async () => (await lineCount(first.client, id)) > before + 100, 15_000, 'the continued run to print');
  await first.server.kill();
  await closeQuietly(first.client);

  const second = await rig.up();
  expect(logLine(second.server.stderr(), 'journal reconciled')).toMatchObject({ reattached: 1 });
  expect(journalRow(rig.dirs, id)).toMatchObject({ status: 'running', worker_pid: resumed.worker_pid });
  expect((await waitEnded(second.client, id, 40_000)).status).toBe('exited');
  const { lines } = await readAll(second.client, id);
  // Both runs, in order, each one unbroken: 30 ticks, then the continuation's 1500.
  const starts = lines.flatMap((l, i) => (/^tick 0 /.test(l) ? [i] : []));
  expect(starts).toHaveLength(2);
  const runs = [tickNumbers(lines.slice(0, starts[1])), tickNumbers(lines.slice(starts[1]))];
  expect(runs[0]).toHaveLength(30);
  expectConsecutive(runs[0]);
  expect(runs[1]).toHaveLength(1500);
  expectConsecutive(runs[1]);
  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  await until(() => leftovers(rig.dirs).length === 0, 5_000, 'no process left').catch(() => undefined);
  expect(leftovers(rig.dirs)).toEqual([]);
});
