/**
 * session_list filters and paging: status (a status, or active / ended / all),
 * agent, limit and an opaque cursor; by default running sessions first, then the
 * most recently ended, one page of them, with counts of everything kept.
 */
import fs from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Limits } from '../../src/shared/constants';
import { type RunningServer, call, callError, connect, reapLeftovers, startServer, until } from '../helpers/server';
import { withJournal } from '../restart/support';

let server: RunningServer;
let client: Client;
const running: string[] = []; // oldest first
const ended: string[] = []; // in the order they ended
let claude: string;
let killed: string;

async function endOf(id: string): Promise<void> {
  await until(async () => (await call(client, 'session_wait', { sessionId: id, since: 0, timeoutMs: 2_000 })).status !== 'running', 15_000, 'session end');
}

beforeAll(async () => {
  server = await startServer({ env: { AGENTVISOR_KILL_SESSIONS_ON_EXIT: '1', KILL_GRACE: '1000' } });
  client = await connect(server, 'http');
  const start = async (task: string, agent = 'codex') => (await call(client, 'session_start', { agent, cwd: 'list', task })).sessionId as string;
  // Enough ended sessions to overflow the default page, started a few at a time. Each lives
  // a few hundred ms: an agent that exits at once can lose a race with session_start on a
  // loaded machine (its worker gone before the supervisor connects), not what is tested here.
  const total = Limits.sessionListPage + 3;
  for (let i = 0; i < total; i += 6) {
    const batch = await Promise.all(Array.from({ length: Math.min(6, total - i) }, () => start('tick 2 200')));
    for (const id of batch) await endOf(id);
  }
  // Their order of ending, as the journal has it (ties broken by id), is what the list must follow.
  ended.push(...withJournal(server.dirs, (db) => (db.prepare('SELECT id FROM sessions ORDER BY ended_at, id').all() as Array<{ id: string }>).map((r) => r.id)));
  killed = await start('silent');
  await call(client, 'session_kill', { sessionId: killed });
  // Past 'killing' (still active) to 'killed': only then is it among the ended.
  await until(async () => (await call(client, 'session_output', { sessionId: killed })).status === 'killed', 15_000, 'the kill to finish');
  ended.push(killed);
  running.push(await start('silent'), await start('silent'));
  claude = await start('slow 600000 stays running', 'claude-code');
  running.push(claude);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

const ids = (r: any) => r.sessions.map((s: any) => s.sessionId);

test('by default: the running sessions newest first, then the most recently ended, one page', async () => {
  const r = await call(client, 'session_list', {});
  expect(r.sessions).toHaveLength(Limits.sessionListPage);
  expect(ids(r).slice(0, 3)).toEqual([...running].reverse());
  expect(ids(r).slice(3)).toEqual([...ended].reverse().slice(0, Limits.sessionListPage - 3));
  expect(r.nextCursor).toEqual(expect.any(String));
  expect(r.counts).toEqual({ running: 3, exited: ended.length - 1, killed: 1 });
});

test('following nextCursor visits every session once, in order, and ends with null', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const r = await call(client, 'session_list', { limit: 7, ...(cursor ? { cursor } : {}) });
    expect(r.sessions.length).toBeLessThanOrEqual(7);
    seen.push(...ids(r));
    cursor = r.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  expect(seen).toEqual([...[...running].reverse(), ...[...ended].reverse()]);
  expect(pages).toBe(Math.ceil(seen.length / 7));
});

test('status and agent filters', async () => {
  expect(ids(await call(client, 'session_list', { status: 'running' }))).toEqual([...running].reverse());
  expect(ids(await call(client, 'session_list', { status: 'active' }))).toEqual([...running].reverse());
  expect(ids(await call(client, 'session_list', { status: 'killed' }))).toEqual([killed]);
  expect(ids(await call(client, 'session_list', { status: 'lost' }))).toEqual([]);
  const all = await call(client, 'session_list', { status: 'ended', limit: Limits.sessionListMax });
  expect(ids(all)).toEqual([...ended].reverse());
  expect(all.nextCursor).toBeNull();
  expect(ids(await call(client, 'session_list', { agent: 'claude-code' }))).toEqual([claude]);
  expect(ids(await call(client, 'session_list', { agent: 'codex', status: 'running' }))).toEqual(running.filter((id) => id !== claude).reverse());
});

test('bad filters, limits and cursors get clear errors', async () => {
  expect(await callError(client, 'session_list', { status: 'sleeping' })).toMatch(/status/);
  expect(await callError(client, 'session_list', { agent: 'bash' })).toMatch(/agent/);
  expect(await callError(client, 'session_list', { limit: 0 })).toMatch(/limit/);
  expect(await callError(client, 'session_list', { limit: Limits.sessionListMax + 1 })).toMatch(/limit/);
  expect(await callError(client, 'session_list', { cursor: 'not a cursor!' })).toMatch(/cursor/);
  expect(await callError(client, 'session_list', { cursor: Buffer.from('{"x":1}').toString('base64url') })).toMatch(/cursor/);
  const { nextCursor } = await call(client, 'session_list', { limit: 1 });
  expect(await callError(client, 'session_list', { cursor: nextCursor, status: 'ended' })).toMatch(/cursor.*(status|filter)/);
  expect(await callError(client, 'session_list', { extra: 1 })).toMatch(/extra|Unrecognized/i);
});
