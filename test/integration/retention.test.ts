/**
 * Retention: past ENDED_SESSIONS_KEPT an ended session is forgotten whole - its
 * journal row, its events and its directory on disk - after each session ends
 * and at start-up; running sessions are never touched. Real supervisors, real
 * workers, a fast fake agent.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, callError, connect, leftovers, makeDirs, reapLeftovers, startServer, until } from '../helpers/server';
import { withJournal } from '../restart/support';

let dirs: Dirs;
let server: RunningServer | undefined;
let client: Client | undefined;

beforeAll(() => {
  dirs = makeDirs('agentvisor-retention-');
});

afterAll(async () => {
  await client?.close();
  await server?.kill();
  reapLeftovers(dirs);
  fs.rmSync(dirs.base, { recursive: true, force: true });
});

const journalIds = () => withJournal(dirs, (db) => (db.prepare('SELECT id FROM sessions').all() as Array<{ id: string }>).map((r) => r.id).sort());
const eventIds = () => withJournal(dirs, (db) => (db.prepare('SELECT DISTINCT session_id AS id FROM events WHERE session_id IS NOT NULL').all() as Array<{ id: string }>).map((r) => r.id).sort());
const sessionDirs = () => fs.readdirSync(path.join(dirs.stateDir, 'sessions')).sort();

async function runToEnd(c: Client, task: string): Promise<string> {
  const s = await call(c, 'session_start', { agent: 'codex', cwd: 'kept', task });
  await until(async () => (await call(c, 'session_wait', { sessionId: s.sessionId, since: 0, timeoutMs: 2_000 })).status !== 'running', 15_000, 'session end');
  return s.sessionId;
}

test('past ENDED_SESSIONS_KEPT an ended session loses its row, its events and its directory; running ones stay', async () => {
  server = await startServer({ dirs, env: { ENDED_SESSIONS_KEPT: '3' } });
  client = await connect(server, 'http');
  const running = (await call(client, 'session_start', { agent: 'codex', cwd: 'kept', task: 'silent' })).sessionId as string;
  const ended: string[] = [];
  // Agents that live a little (see sessionList.test.ts on agents that exit at once).
  for (let i = 0; i < 7; i++) ended.push(await runToEnd(client, 'tick 2 100'));
  const kept = [running, ...ended.slice(-3)].sort();
  // Pruning follows each end (after the worker's exit is acknowledged): wait for it to settle.
  await until(() => journalIds().length === kept.length, 10_000, 'the journal to hold only the kept sessions');
  expect(journalIds()).toEqual(kept);
  expect(eventIds()).toEqual(kept);
  await until(() => sessionDirs().length === kept.length, 10_000, 'only the kept session directories');
  expect(sessionDirs()).toEqual(kept);
  const listed = (await call(client, 'session_list', {})).sessions.map((s: any) => s.sessionId).sort();
  expect(listed).toEqual(kept);
  // The detailed /health counts what is kept, not every session ever run.
  const health = (await (await fetch(`${server.url}/health`, { headers: { Authorization: `Bearer ${server.token}` } })).json()) as any;
  expect(health.sessions).toEqual((await call(client, 'session_list', {})).counts);
  expect(Object.values(health.sessions as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(kept.length);
  expect(await callError(client, 'session_output', { sessionId: ended[0] })).toMatch(/unknown sessionId .*ENDED_SESSIONS_KEPT/);
  // The kept ones still read in full.
  expect((await call(client, 'session_output', { sessionId: ended[6], since: 0 })).status).toBe('exited');
});

test('at start-up a lower ENDED_SESSIONS_KEPT prunes at once; the running session is re-attached, not pruned', async () => {
  await client!.close();
  client = undefined;
  expect(await server!.stop()).toBe(0);
  const before = journalIds();
  server = await startServer({ dirs, env: { ENDED_SESSIONS_KEPT: '1' } });
  client = await connect(server, 'sse');
  const running = (await call(client, 'session_list', {})).sessions.filter((s: any) => s.status === 'running');
  expect(running).toHaveLength(1);
  const newestEnded = withJournal(dirs, (db) => (db.prepare("SELECT id FROM sessions WHERE status != 'running' ORDER BY ended_at DESC LIMIT 1").get() as { id: string }).id);
  const kept = [running[0].sessionId, newestEnded].sort();
  expect(before).toEqual(expect.arrayContaining(kept));
  // Start-up pruning is done before the server listens: no waiting.
  expect(journalIds()).toEqual(kept);
  expect(eventIds()).toEqual(kept);
  expect(sessionDirs()).toEqual(kept);
  await call(client, 'session_kill', { sessionId: running[0].sessionId });
  await client.close();
  client = undefined;
  expect(await server.stop()).toBe(0);
  await until(() => leftovers(dirs).length === 0, 10_000, 'no worker or agent left');
});

test('a session lost at run time (its worker killed) prunes like one that ended normally', async () => {
  const own = makeDirs('agentvisor-retention-lost-');
  const lostServer = await startServer({ dirs: own, env: { ENDED_SESSIONS_KEPT: '1' } });
  const c = await connect(lostServer, 'http');
  try {
    const older = await runToEnd(c, 'tick 2 100');
    const victim = (await call(c, 'session_start', { agent: 'codex', cwd: 'kept', task: 'silent' })).sessionId as string;
    const workerPid = withJournal(own, (db) => (db.prepare('SELECT worker_pid FROM sessions WHERE id = ?').get(victim) as { worker_pid: number }).worker_pid);
    // What an agent that kills its own worker does: no final record, the supervisor calls it lost.
    process.kill(workerPid, 'SIGKILL');
    await until(async () => (await call(c, 'session_output', { sessionId: victim })).status === 'lost', 15_000, 'the session to be lost');
    const ids = () => withJournal(own, (db) => (db.prepare('SELECT id FROM sessions').all() as Array<{ id: string }>).map((r) => r.id));
    await until(() => !ids().includes(older), 10_000, 'the older ended session to be forgotten');
    expect(ids()).toEqual([victim]);
    expect(fs.readdirSync(path.join(own.stateDir, 'sessions'))).toEqual([victim]);
  } finally {
    await c.close();
    expect(await lostServer.stop()).toBe(0);
    await until(() => leftovers(own).length === 0, 10_000, 'no worker or agent left');
    fs.rmSync(own.base, { recursive: true, force: true });
  }
});
