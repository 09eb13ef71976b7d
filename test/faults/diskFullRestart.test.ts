/**
 * A supervisor (re)started while STATE_DIR is full, on a real 16 MB tmpfs:
 * it comes up degraded instead of crash-looping, re-attaches to the live
 * worker (whose agent keeps running) and catches up once space returns.
 */
import fs from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, makeDirs, until } from '../helpers/server';
import { fillUp, freeUp, mountTmpfs, unmountTmpfs } from '../helpers/tmpfs';
import { alive, cleanup, health, journalRow, lineCount, startTick, up, waitEnded, writeHardyAgent } from '../restart/support';

jest.setTimeout(120_000);

let dirs: Dirs;
const servers: RunningServer[] = [];
const clients: Client[] = [];

beforeEach(() => {
  dirs = makeDirs('agentvisor-fullstart-');
  mountTmpfs(dirs.stateDir, 16);
});
afterEach(() => cleanup(dirs, servers.splice(0), clients.splice(0), () => unmountTmpfs(dirs.stateDir)));

test('a supervisor restarted on a full STATE_DIR comes up, re-attaches, and catches up when space returns', async () => {
  const agentBin = writeHardyAgent(dirs);
  const first = await up(dirs, { CODEX_BIN: agentBin });
  servers.push(first.server);
  const s = await startTick(first.client, 100_000, 5);
  await until(async () => (await lineCount(first.client, s.sessionId)) > 20, 15_000, 'output');
  const row = journalRow(dirs, s.sessionId);
  await first.client.close();
  expect(await first.server.stop()).toBe(0);

  fillUp(dirs.stateDir);
  const second = await up(dirs, { CODEX_BIN: agentBin });
  servers.push(second.server);
  clients.push(second.client);
  const page = await call(second.client, 'session_output', { sessionId: s.sessionId, since: 0 });
  expect(page.status).toBe('running');
  expect(alive(row.agent_pid)).toBe(true);
  const n = await lineCount(second.client, s.sessionId);
  await until(async () => (await lineCount(second.client, s.sessionId)) > n + 50, 10_000, 'output to keep coming');
  const full = await health(second.server);
  expect(full).toMatchObject({ status: 'degraded', journal: 'unwritable: disk full' });
  expect(full.problems).toContainEqual(expect.stringMatching(/server\.json cannot be written \(ENOSPC\): the agentvisor CLI cannot find this server$/));

  freeUp(dirs.stateDir);
  await until(
    async () => {
      const h = await health(second.server);
      return h.journal === 'ok' && (h.problems as string[]).length === 1;
    },
    30_000,
    'the journal and server.json to catch up',
  );
  // Opened exclusively (SQLite could not create its -shm file), it stays so until a restart, and says so.
  expect((await health(second.server)).problems).toEqual([expect.stringMatching(/^STATE_DIR was full when agentvisor started, so it holds the journal exclusively/)]);
  expect(JSON.parse(fs.readFileSync(`${dirs.stateDir}/server.json`, 'utf8'))).toMatchObject({ pid: second.server.proc.pid });
  await call(second.client, 'session_kill', { sessionId: s.sessionId });
  expect((await waitEnded(second.client, s.sessionId)).status).toBe('killed');
  await second.client.close();
  clients.splice(0);
  expect(await second.server.stop()).toBe(0);
  expect(journalRow(dirs, s.sessionId)).toMatchObject({ status: 'killed', worker_pid: row.worker_pid });
});
