/**
 * #13 item 1: the supervisor's heartbeat against a real worker. A worker stopped
 * with SIGSTOP keeps its socket open, so only an unanswered ping shows it hung:
 * it is reported (log line, /health, session info) within the grace, and healthy
 * again once SIGCONT lets it answer. The session is not ended for it.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, makeDirs, until } from '../helpers/server';
import { cleanup, health, journalRow, logLine, up, waitEnded } from '../restart/support';

const INTERVAL_MS = 100;
const GRACE_MS = 1_000;

let dirs: Dirs;
let server: RunningServer | undefined;
let client: Client | undefined;
let stopped: number | null = null;

beforeEach(() => {
  dirs = makeDirs('agentvisor-heartbeat-');
});
afterEach(async () => {
  if (stopped) process.kill(stopped, 'SIGCONT');
  stopped = null;
  expect(await cleanup(dirs, [server], [client])).toEqual([]);
});

const problems = async () => ((await health(server!)).problems ?? []) as string[];
const sessionInfo = async (c: Client, id: string) => (await call(c, 'session_list', {})).sessions.find((s: { sessionId: string }) => s.sessionId === id);

test('a SIGSTOPped worker is reported unresponsive within the grace, and healthy again after SIGCONT', async () => {
  ({ server, client } = await up(dirs, { HEARTBEAT_INTERVAL: String(INTERVAL_MS), HEARTBEAT_GRACE: String(GRACE_MS) }));
  const c = client;
  const s = await call(c, 'session_start', { agent: 'claude-code', cwd: 's', task: 'slow 600000 hold' });
  const worker = journalRow(dirs, s.sessionId).worker_pid!;
  expect(await problems()).toEqual([]);

  const stoppedAt = Date.now();
  process.kill(worker, 'SIGSTOP');
  stopped = worker;
  await until(() => logLine(server!.stderr(), 'worker unresponsive: connected but not answering') !== undefined, GRACE_MS + 10_000, 'the unresponsive report');
  const after = Date.now() - stoppedAt;
  // A ping goes out at most one interval after the stop and is reported one grace later.
  expect(after).toBeGreaterThanOrEqual(GRACE_MS - INTERVAL_MS);
  expect(after).toBeLessThan(GRACE_MS + INTERVAL_MS + 2_000);
  expect(logLine(server.stderr(), 'worker unresponsive: connected but not answering')).toMatchObject({ sessionId: s.sessionId, workerPid: worker });
  expect(await problems()).toEqual([expect.stringContaining(`session ${s.sessionId}: worker ${worker} connected but not answering since`)]);
  expect(await sessionInfo(c, s.sessionId)).toMatchObject({ status: 'running', workerUnresponsive: true });

  process.kill(worker, 'SIGCONT');
  stopped = null;
  await until(() => logLine(server!.stderr(), 'worker answering again') !== undefined, 10_000, 'the worker to answer again');
  expect(await problems()).toEqual([]);
  const info = await sessionInfo(c, s.sessionId);
  expect(info.status).toBe('running');
  expect(info.workerUnresponsive).toBeUndefined();

  await call(c, 'session_kill', { sessionId: s.sessionId });
  await waitEnded(c, s.sessionId);
});
