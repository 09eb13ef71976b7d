/**
 * Crash isolation: a worker killed hard takes down its own session and
 * nothing else. With the supervisor up, the session is marked lost at once;
 * with the supervisor down, the next supervisor finds it dead. Either way the
 * agent it left behind is killed and the output up to the crash stays readable.
 *
 * An agent outlives its worker only unconfined (SANDBOX=none, or no bubblewrap): confined, the
 * sandbox dies with the worker (--die-with-parent), which the last test shows. The first two run
 * unconfined, since the supervisor's clean-up is what they test.
 */
import { call, leftovers, until } from '../helpers/server';
import {
  alive,
  closeQuietly,
  eventKinds,
  expectConsecutive,
  health,
  journalRow,
  lineCount,
  pendingSignals,
  readAll,
  restartRig,
  type Started,
  startTick,
  tickNumbers,
  waitEnded,
  writeHardyAgent,
} from './support';

jest.setTimeout(60_000);

/** A pending signal is taken as soon as the process is scheduled; this only bounds a wedged one. */
const SIGNALS_TAKEN_MS = 5_000;

const rig = restartRig('agentvisor-wcrash-');

test('SIGKILL of one worker: supervisor and the other session carry on; the session is lost, its agent killed, its output readable', async () => {
  // The victim runs an agent that survives its terminal hanging up, so only the supervisor's clean-up can end it.
  const { server, client } = await rig.up({ CODEX_BIN: writeHardyAgent(rig.dirs), SANDBOX: 'none' });
  const victim = await startTick(client, 100_000, 5, 'victim');
  const other = await startTick(client, 100_000, 5, 'other');
  await until(async () => (await lineCount(client, victim.sessionId)) > 100 && (await lineCount(client, other.sessionId)) > 100, 15_000, 'output');

  const row = journalRow(rig.dirs, victim.sessionId);
  expect(alive(row.worker_pid)).toBe(true);
  expect(alive(row.agent_pid)).toBe(true);
  const seen = tickNumbers((await readAll(client, victim.sessionId)).lines);
  process.kill(row.worker_pid!, 'SIGKILL');

  // The supervisor notices at once (the socket drops), marks the session lost and kills the agent.
  const lost = await waitEnded(client, victim.sessionId, 10_000);
  expect(lost.status).toBe('lost');
  expect(lost.completedSuccessfully).toBe(false);
  expect(lost.errorSummary).toMatch(new RegExp(`worker process ${row.worker_pid} died without recording an outcome; its agent was killed`));
  await until(() => !alive(row.agent_pid), 5_000, 'the orphaned agent to be killed');
  const after = journalRow(rig.dirs, victim.sessionId);
  expect(after).toMatchObject({ status: 'lost', end_reason: 'worker_lost' });
  expect(eventKinds(rig.dirs, victim.sessionId)).toContain('worker_lost');

  // Everything the session printed before the crash is still there (the worker flushes every 25 ms).
  const { lines, last } = await readAll(client, victim.sessionId);
  const kept = tickNumbers(lines);
  expectConsecutive(kept);
  expect(kept.length).toBeGreaterThanOrEqual(seen.length);
  expect(last.status).toBe('lost');

  // The supervisor is up and the other session is untouched: still answering and still producing.
  expect(server.proc.exitCode).toBeNull();
  expect(await health(server)).toMatchObject({ status: 'ok', workers: 1 });
  const n1 = await lineCount(client, other.sessionId);
  await until(async () => (await lineCount(client, other.sessionId)) > n1 + 50, 10_000, 'the other session to keep printing');
  const otherTicks = tickNumbers((await readAll(client, other.sessionId)).lines);
  expectConsecutive(otherTicks);
  expect((await call(client, 'session_list')).sessions.find((s: { sessionId: string }) => s.sessionId === other.sessionId).status).toBe('running');

  const killed = await call(client, 'session_kill', { sessionId: other.sessionId });
  expect(killed.status).toBe('killed');
  await closeQuietly(client);
  expect(await server.stop()).toBe(0);
  await until(() => leftovers(rig.dirs).length === 0, 5_000, 'no process left').catch(() => undefined);
  expect(leftovers(rig.dirs)).toEqual([]);
});

test('SIGKILL of a worker while the supervisor is down: the next one marks it lost and kills its agent; one that ended meanwhile is read from its final record', async () => {
  const first = await rig.up({ CODEX_BIN: writeHardyAgent(rig.dirs), SANDBOX: 'none' });
  const doomed = await startTick(first.client, 100_000, 5, 'doomed');
  const finishing = await startTick(first.client, 300, 5, 'finishing');
  await until(async () => (await lineCount(first.client, doomed.sessionId)) > 50, 10_000, 'output');
  const seen = tickNumbers((await readAll(first.client, doomed.sessionId)).lines);
  await first.server.kill();
  await closeQuietly(first.client);

  const row = journalRow(rig.dirs, doomed.sessionId);
  const finRow = journalRow(rig.dirs, finishing.sessionId);
  expect(row.status).toBe('running');
  process.kill(row.worker_pid!, 'SIGKILL');
  await until(() => !alive(row.worker_pid), 5_000, 'worker to die');
  // Its agent outlives it, unsupervised, until a supervisor comes back. The worker's death has already
  // sent whatever it sends (the terminal's hang-up goes out as its descriptors close, before it is a
  // zombie): once the agent has taken every pending signal, it is dead or it survived.
  await until(() => (pendingSignals(row.agent_pid) ?? 0n) === 0n, SIGNALS_TAKEN_MS, 'the agent to take its signals');
  expect(alive(row.agent_pid)).toBe(true);
  // Meanwhile the other session ends on its own; its worker writes final.json and exits.
  await until(() => !alive(finRow.worker_pid), 20_000, 'the finishing session to end without a supervisor');

  const second = await rig.up({ CODEX_BIN: writeHardyAgent(rig.dirs), SANDBOX: 'none' });
  await until(() => !alive(row.agent_pid), 5_000, 'the orphaned agent to be killed at start-up');

  const lost = await call(second.client, 'session_output', { sessionId: doomed.sessionId, since: 0 });
  expect(lost.status).toBe('lost');
  expect(lost.errorSummary).toMatch(/died without recording an outcome; its agent was killed/);
  const kept = tickNumbers((await readAll(second.client, doomed.sessionId)).lines);
  expectConsecutive(kept);
  expect(kept.length).toBeGreaterThanOrEqual(seen.length);

  const done = await call(second.client, 'session_output', { sessionId: finishing.sessionId, since: 0 });
  expect(done).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  const doneTicks = tickNumbers((await readAll(second.client, finishing.sessionId)).lines);
  expect(doneTicks).toHaveLength(300);
  expectConsecutive(doneTicks);
  expect(journalRow(rig.dirs, finishing.sessionId)).toMatchObject({ status: 'exited', end_reason: 'exited', exit_code: 0 });

  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  await until(() => leftovers(rig.dirs).length === 0, 5_000, 'no process left').catch(() => undefined);
  expect(leftovers(rig.dirs)).toEqual([]);
});

test("confined (issue 16): a worker SIGKILLed while the supervisor is down takes its agent's whole sandbox along at once", async () => {
  const first = await rig.up({ CODEX_BIN: writeHardyAgent(rig.dirs) });
  const doomed = await startTick(first.client, 100_000, 5, 'doomed');
  await until(async () => (await lineCount(first.client, doomed.sessionId)) > 20, 10_000, 'output');
  expect((doomed as Started & { sandbox: string }).sandbox).toBe('bwrap');
  await first.server.kill();
  await closeQuietly(first.client);

  const row = journalRow(rig.dirs, doomed.sessionId);
  // The agent's pid is bubblewrap's; the hardy agent itself runs below it, in the namespace.
  const sandbox = leftovers(rig.dirs).filter((p) => p !== row.worker_pid);
  expect(sandbox).toContain(row.agent_pid);
  expect(sandbox.length).toBeGreaterThanOrEqual(3);
  process.kill(row.worker_pid!, 'SIGKILL');
  // No supervisor runs: nothing but the sandbox itself can end them.
  await until(() => sandbox.every((p) => !alive(p)), 5_000, 'every process of the sandbox to die with the worker');
  expect(leftovers(rig.dirs)).toEqual([]);

  const second = await rig.up({ CODEX_BIN: writeHardyAgent(rig.dirs) });
  const lost = await call(second.client, 'session_output', { sessionId: doomed.sessionId, since: 0 });
  expect(lost).toMatchObject({ status: 'lost', errorSummary: expect.stringMatching(/died without recording an outcome/) });
  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
});
