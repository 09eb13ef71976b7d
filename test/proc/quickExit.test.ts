/**
 * #12 item 5a: an agent that exits within milliseconds of its start. Its worker
 * used to exit (and remove its socket) before the supervisor attached, and
 * session_start failed with `connect ENOENT …sock`. Every start must now be an
 * ordinary `exited` session with its output and exit code.
 */
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, ROOT, type RunningServer, call, makeDirs } from '../helpers/server';
import { type Page, cleanup, up, waitEnded } from '../restart/support';

const QUICK = path.join(ROOT, 'test/fixtures/fake-quick.sh');
/** Several of every hundred starts failed before the fix; a hundred make a failure certain. */
const STARTS = 100;
/** Starts in flight at once: concurrency widens the window the race needs. */
const PARALLEL = 4;

jest.setTimeout(180_000);

let dirs: Dirs;
let server: RunningServer | undefined;
let client: Client | undefined;

beforeEach(() => {
  dirs = makeDirs('agentvisor-quick-');
});
afterEach(async () => {
  expect(await cleanup(dirs, [server], [client])).toEqual([]);
});

test(`${STARTS} starts of an agent that exits at once are all ordinary exited sessions`, async () => {
  ({ server, client } = await up(dirs, { CLAUDE_BIN: QUICK, CODEX_BIN: QUICK, MAX_SESSIONS: '1000', ENDED_SESSIONS_KEPT: '1000' }));
  const c = client;
  const failures: string[] = [];
  const ids: Array<{ id: string; agent: string }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < STARTS) {
        const agent = next++ % 2 === 0 ? 'claude-code' : 'codex';
        try {
          const s = await call(c, 'session_start', { agent, cwd: 'q', task: 'go' });
          ids.push({ id: s.sessionId, agent });
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }),
  );
  expect(failures).toEqual([]);
  expect(ids).toHaveLength(STARTS);
  for (const { id } of ids) {
    const end: Page = await waitEnded(c, id);
    expect({ status: end.status, exitCode: end.exitCode }).toEqual({ status: 'exited', exitCode: 3 });
    const page = await call<Page>(c, 'session_output', { sessionId: id, since: 0 });
    expect(page.lines.join('\n')).toContain('quick agent done');
  }
});
