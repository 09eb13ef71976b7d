/**
 * State files removed under a running agentvisor (an operator's rm, a clean-up
 * script): a deleted or replaced journal is noticed and reported; a restart
 * without the journal, or without the worker sockets, finds the live workers
 * again instead of killing their agents; a journal that is not a database
 * names the file and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, makeDirs, startServer, until } from '../helpers/server';
import { BASE_ENV, alive, cleanup, health, journalRow, lineCount, readAll, startTick, tickNumbers, up, waitEnded, writeHardyAgent } from '../restart/support';

jest.setTimeout(60_000);

let dirs: Dirs;
const servers: RunningServer[] = [];
const clients: Client[] = [];

beforeEach(() => {
  dirs = makeDirs('agentvisor-lost-');
});
afterEach(async () => {
  await cleanup(dirs, servers.splice(0), clients.splice(0));
});

const journalFiles = () => ['journal.db', 'journal.db-wal', 'journal.db-shm'].map((f) => path.join(dirs.stateDir, f));

/** Starts a supervisor and one long session; stops the supervisor (the worker lives on) and returns what it knew. */
async function sessionOutlivingItsSupervisor() {
  const agentBin = writeHardyAgent(dirs);
  const first = await up(dirs, { CODEX_BIN: agentBin });
  servers.push(first.server);
  const s = await startTick(first.client, 100_000, 5);
  await until(async () => (await lineCount(first.client, s.sessionId)) > 20, 15_000, 'output');
  const row = journalRow(dirs, s.sessionId);
  await first.client.close();
  expect(await first.server.stop()).toBe(0);
  expect(alive(row.worker_pid)).toBe(true);
  return { s, row, agentBin };
}

async function expectFoundAgain(sessionId: string, row: { worker_pid: number | null; agent_pid: number | null }, agentBin: string) {
  const { server, client } = await up(dirs, { CODEX_BIN: agentBin });
  servers.push(server);
  clients.push(client);
  const listed = (await call(client, 'session_list')).sessions.find((x: { sessionId: string }) => x.sessionId === sessionId);
  expect(listed).toMatchObject({ status: 'running' });
  expect(alive(row.agent_pid)).toBe(true);
  const n = await lineCount(client, sessionId);
  await until(async () => (await lineCount(client, sessionId)) > n + 20, 10_000, 'output to keep coming');
  const ticks = tickNumbers((await readAll(client, sessionId)).lines);
  expect(ticks[0]).toBe(0);
  expect(journalRow(dirs, sessionId).worker_pid).toBe(row.worker_pid);
  await call(client, 'session_kill', { sessionId });
  expect((await waitEnded(client, sessionId)).status).toBe('killed');
  expect(alive(row.agent_pid)).toBe(false);
}

test('journal.db deleted while running: /health reports it instead of "ok"', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  expect(await health(server)).toMatchObject({ status: 'ok', journal: 'ok' });
  for (const f of journalFiles()) fs.rmSync(f, { force: true });
  const h = await health(server);
  expect(h.status).toBe('degraded');
  expect(h.problems).toContainEqual(expect.stringMatching(/^journal file .*journal\.db was deleted while agentvisor runs/));
});

test('restart after journal.db was deleted: the live worker is found from its session directory, its agent not killed', async () => {
  const { s, row, agentBin } = await sessionOutlivingItsSupervisor();
  for (const f of journalFiles()) fs.rmSync(f, { force: true });
  await expectFoundAgain(s.sessionId, row, agentBin);
});

test('restart after the worker sockets were deleted: the live worker listens again and is re-attached, its agent not killed', async () => {
  const { s, row, agentBin } = await sessionOutlivingItsSupervisor();
  const sockDir = path.join(dirs.stateDir, 'sock');
  for (const f of fs.readdirSync(sockDir)) fs.rmSync(path.join(sockDir, f));
  await expectFoundAgain(s.sessionId, row, agentBin);
});

test('restart after the whole socket directory was removed: the same', async () => {
  const { s, row, agentBin } = await sessionOutlivingItsSupervisor();
  fs.rmSync(path.join(dirs.stateDir, 'sock'), { recursive: true });
  await expectFoundAgain(s.sessionId, row, agentBin);
});

test('a journal that is not a database: start fails naming the file and the fix', async () => {
  fs.mkdirSync(dirs.stateDir, { recursive: true });
  fs.writeFileSync(journalFiles()[0], 'this is not a database, it is a text file that ended up here\n'.repeat(100));
  const err = await startServer({ dirs, env: BASE_ENV }).then(
    (srv) => {
      servers.push(srv);
      return null;
    },
    (e: Error) => e.message,
  );
  expect(err).toContain(`${journalFiles()[0]} is not a usable journal (file is not a database)`);
  expect(err).toContain(`mv ${journalFiles()[0]} ${journalFiles()[0]}.bad`);
});
