/**
 * #12 item 5: an agent that leaves a detached grandchild behind. A grandchild in a
 * session of its own (setsid) is outside the agent's process group, so the group
 * signal misses it; one that holds the agent's stdout kept a Claude session (pipes)
 * `running` for good, and a Codex session (PTY) ended with the grandchild orphaned.
 * Now the agent's exit ends the session after at most a short grace, and every
 * process of the session's tree, tracked while it runs, is killed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WorkerTimeouts } from '../../src/shared/constants';
import { type Dirs, ROOT, type RunningServer, call, makeDirs, until } from '../helpers/server';
import { alive, cleanup, journalRow, up, waitEnded } from '../restart/support';

const AGENT = path.join(ROOT, 'test/fixtures/fake-grandchild.js');
/** Room for a loaded machine on top of the grace the worker gives the pipes. */
const END_MARGIN_MS = 5_000;

jest.setTimeout(60_000);

let dirs: Dirs;
let server: RunningServer | undefined;
let client: Client | undefined;
let grandchild: number | undefined;

beforeEach(() => {
  dirs = makeDirs('agentvisor-grandchild-');
  grandchild = undefined;
});
afterEach(async () => {
  // The grandchild is in the test's cwd, so cleanup finds (and reports) it if it outlived its session.
  expect(await cleanup(dirs, [server], [client])).toEqual([]);
});

async function grandchildPid(cwd: string): Promise<number> {
  const file = path.join(dirs.workspace, cwd, 'grandchild.pid');
  await until(() => fs.existsSync(file), 15_000, 'the grandchild to start');
  return hostPid(Number(fs.readFileSync(file, 'utf8')), path.join(dirs.workspace, cwd));
}

/**
 * The host's pid of a process that wrote its own: a confined agent (issue 16) runs in a pid
 * namespace, where its descendants see other numbers (`NSpid:` lists them outermost first).
 * 0 when none is alive any more: confined, the namespace (and the grandchild in it) ends with
 * the agent, which may be before the lookup.
 */
function hostPid(ownPid: number, cwd: string): number {
  for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const nspid =
        /^NSpid:\s*(.*)$/m
          .exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]
          .trim()
          .split(/\s+/) ?? [];
      if (Number(nspid.at(-1)) === ownPid && fs.readlinkSync(`/proc/${entry}/cwd`) === cwd) return Number(entry);
    } catch {
      // exited while we looked
    }
  }
  return 0;
}

test.each(['claude-code', 'codex'])('a %s agent that exits while a detached grandchild holds its stdout ends its session within the grace, and the grandchild is killed', async (agent) => {
  ({ server, client } = await up(dirs, { CLAUDE_BIN: AGENT, CODEX_BIN: AGENT }));
  const s = await call(client, 'session_start', { agent, cwd: 'g', task: 'holder' });
  grandchild = await grandchildPid('g');
  const t0 = Date.now();
  const end = await waitEnded(client, s.sessionId, WorkerTimeouts.stdioDrainGraceMs + END_MARGIN_MS);
  expect(Date.now() - t0).toBeLessThan(WorkerTimeouts.stdioDrainGraceMs + END_MARGIN_MS);
  expect({ status: end.status, exitCode: end.exitCode }).toEqual({ status: 'exited', exitCode: 0 });
  await until(() => !alive(grandchild), 5_000, `grandchild ${grandchild} to be killed`);
  const row = journalRow(dirs, s.sessionId);
  await until(() => !alive(row.worker_pid), 10_000, 'the worker to exit');
});

test('a daemon the agent started (own session, no stdio) is tracked while the agent runs and killed when the agent exits', async () => {
  ({ server, client } = await up(dirs, { CLAUDE_BIN: AGENT, CODEX_BIN: AGENT }));
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'd', task: 'daemon' });
  grandchild = await grandchildPid('d');
  // The worker says when it has taken a process into the session's tree (worker.log).
  const workerLog = path.join(journalRow(dirs, s.sessionId).session_dir, 'worker.log');
  await until(() => fs.readFileSync(workerLog, 'utf8').includes(`"trackedPid":${grandchild}`), 10_000, 'the worker to track the daemon');
  await call(client, 'session_send', { sessionId: s.sessionId, message: 'quit\r', raw: true });
  const end = await waitEnded(client, s.sessionId);
  expect({ status: end.status, exitCode: end.exitCode }).toEqual({ status: 'exited', exitCode: 0 });
  await until(() => !alive(grandchild), 5_000, `daemon ${grandchild} to be killed`);
  await until(() => !alive(journalRow(dirs, s.sessionId).worker_pid), 10_000, 'the worker to exit');
});
