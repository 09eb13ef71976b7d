/**
 * A full STATE_DIR, for real: a 16 MB tmpfs mounted on the test's STATE_DIR
 * and filled with a ballast file until writes fail with ENOSPC. Neither the
 * supervisor nor the worker may die of it: the agent keeps running, its output
 * stays readable from memory, the journal's writes wait in memory, and
 * everything reaches the disk once the ballast is removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, callError, makeDirs, until } from '../helpers/server';
import { cliEnv, runCli } from '../cli/cli';
import { fillUp, freeUp, mountTmpfs, unmountTmpfs } from '../helpers/tmpfs';
import { alive, cleanup, eventKinds, expectConsecutive, health, journalRow, lineCount, readAll, startTick, tickNumbers, up, waitEnded, withJournal } from '../restart/support';

jest.setTimeout(120_000);

const MARKER = '[agentvisor] output not persisted: disk full';

let dirs: Dirs;
const servers: RunningServer[] = [];
const clients: Client[] = [];

beforeEach(() => {
  dirs = makeDirs('agentvisor-diskfull-');
  mountTmpfs(dirs.stateDir, 16);
});
afterEach(() => cleanup(dirs, servers.splice(0), clients.splice(0), () => unmountTmpfs(dirs.stateDir)));

/** Every line of a session's output segments on disk, in order. */
function linesOnDisk(sessionDir: string): string[] {
  const dir = path.join(sessionDir, 'output');
  const lines: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    // Whole lines only: a segment that does not end in a newline holds a partial line.
    if (text.length > 0) expect(text.endsWith('\n')).toBe(true);
    lines.push(...text.split('\n').slice(0, -1));
  }
  return lines;
}

test('a full STATE_DIR: supervisor, worker and agent stay up, reads go on, state changes are refused clearly, and everything catches up when space returns', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  const s = await startTick(client, 1_000_000, 5);
  await until(async () => (await lineCount(client, s.sessionId)) > 50, 15_000, 'output');
  const before = journalRow(dirs, s.sessionId);

  fillUp(dirs.stateDir);

  // The worker says so in the session's output and keeps the agent and its lines.
  await until(async () => (await readAll(client, s.sessionId)).lines.includes(MARKER), 15_000, 'the not-persisted marker');
  const n1 = await lineCount(client, s.sessionId);
  await until(async () => (await lineCount(client, s.sessionId)) > n1 + 200, 15_000, 'output to keep coming while the disk is full');
  await until(
    async () => ((await health(server)).problems as string[] | undefined)?.some((p) => p.includes('output not persisted: disk full')) === true,
    10_000,
    '/health to report the output problem',
  );
  expect(await health(server)).toMatchObject({ status: 'degraded' });

  // The worker's report of it is a journal write that cannot land either: kept in memory, and reported.
  await until(async () => ((await health(server)).problems as string[]).some((p) => p === 'journal cannot be written: disk full'), 10_000, '/health to report the journal');
  // State-changing calls are refused with a clear error, and leave nothing behind.
  const refusedSend = await callError(client, 'session_send', { sessionId: s.sessionId, message: 'hello\n', raw: true });
  expect(refusedSend).toMatch(/journal cannot be written \(disk full\).*refuses changes/);
  const refused = await callError(client, 'session_start', { agent: 'codex', cwd: 'q', task: 'tick 5 5' });
  expect(refused).toMatch(/journal cannot be written \(disk full\)/);
  expect(fs.readdirSync(path.join(dirs.stateDir, 'sessions'))).toEqual([s.sessionId]);
  // doctor says so too (a WARN line naming the problems, not a FAIL).
  const doctor = await runCli(['doctor'], cliEnv(dirs, { AUTH_TOKEN: server.token }), dirs.base);
  expect(doctor.stdout).toMatch(/WARN\s+server\s+.*degraded: journal cannot be written: disk full; session \S+: output not persisted: disk full/);
  // Reads are served from the live worker all along.
  const n2 = await lineCount(client, s.sessionId);
  await until(async () => (await lineCount(client, s.sessionId)) > n2 + 100, 15_000, 'reads while the journal is down');

  freeUp(dirs.stateDir);

  await until(async () => (await health(server)).status === 'ok', 30_000, '/health to be ok again');
  // The kept writes reached the journal, and it says it was unwritable for a while.
  expect(withJournal(dirs, (db) => db.prepare("SELECT kind FROM events WHERE kind = 'journal_writable_again'").all())).toHaveLength(1);
  expect((await call(client, 'session_send', { sessionId: s.sessionId, message: 'hello\n', raw: true })).delivered).toBe(true);
  expect(eventKinds(dirs, s.sessionId)).toContain('input');
  const killed = await call(client, 'session_kill', { sessionId: s.sessionId });
  expect(['killed', 'killing']).toContain(killed.status);
  const end = await waitEnded(client, s.sessionId);
  expect(end.status).toBe('killed');
  expect(journalRow(dirs, s.sessionId).status).toBe('killed');

  // Nothing died: the same supervisor and the same worker, whose agent ran to the kill.
  expect(server.proc.exitCode).toBeNull();
  expect(journalRow(dirs, s.sessionId).worker_pid).toBe(before.worker_pid);
  // The worker exits once the supervisor has collected its outcome, a moment after the session reads as ended.
  await until(async () => !alive(before.worker_pid), 10_000, 'the worker to exit after its session ended');
  // Every line reached the disk, whole and in order, with the marker where the disk failed.
  const { lines } = await readAll(client, s.sessionId);
  expectConsecutive(tickNumbers(lines));
  const disk = linesOnDisk(journalRow(dirs, s.sessionId).session_dir);
  expect(disk).toEqual(lines);
  expect(disk).toContain(MARKER);

  // And new sessions start again.
  const again = await call(client, 'session_start', { agent: 'codex', cwd: 'q', task: 'tick 3 5' });
  expect(await waitEnded(client, again.sessionId)).toMatchObject({ status: 'exited', exitCode: 0 });
});

test('a session_start that meets the full disk fails clearly and leaves no directory behind', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  fillUp(dirs.stateDir);
  // Nothing has written the journal since the disk filled: the start itself meets the full disk.
  const refused = await callError(client, 'session_start', { agent: 'codex', cwd: 'q', task: 'tick 5 5' });
  expect(refused).toMatch(/could not write the session's files in STATE_DIR \(disk full\); nothing was started/);
  expect(fs.readdirSync(path.join(dirs.stateDir, 'sessions'))).toEqual([]);
  expect(server.proc.exitCode).toBeNull();
  freeUp(dirs.stateDir);
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'q', task: 'tick 3 5' });
  expect(await waitEnded(client, s.sessionId)).toMatchObject({ status: 'exited', exitCode: 0 });
  expect(fs.readdirSync(path.join(dirs.stateDir, 'sessions'))).toEqual([s.sessionId]);
});
