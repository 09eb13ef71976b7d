/**
 * A session's worktree outlives the supervisor: after a SIGKILL and a restart the running
 * session is re-attached in its worktree, the ended one's worktree and branch are still there,
 * session_diff still compares against the base commit, and session_cleanup removes them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { call, callError } from '../helpers/server';
import { branches, makeRepo } from '../support/gitRepo';
import { readAll, restartRig, waitEnded } from './support';

jest.setTimeout(60_000);

const rig = restartRig('agentvisor-wtrestart-');

test('worktrees survive a supervisor SIGKILL and restart; diff and cleanup work after it', async () => {
  const repo = path.join(rig.dirs.workspace, 'repo');
  const base = makeRepo(repo);
  const first = await rig.up();
  const done = await call(first.client, 'session_start', { agent: 'codex', cwd: 'repo', task: 'write same.txt before-crash', worktree: true });
  await waitEnded(first.client, done.sessionId);
  const running = await call(first.client, 'session_start', { agent: 'codex', cwd: 'repo', task: 'cwd-hold', worktree: 'keep/running' });
  await first.server.kill('SIGKILL');

  const { client } = await rig.up();
  // The running session was re-attached, still in its worktree.
  const info = (await call(client, 'session_list')).sessions.find((s: any) => s.sessionId === running.sessionId);
  expect(info).toMatchObject({ status: 'running', cwd: running.worktree.path });
  expect((await readAll(client, running.sessionId)).lines).toContain(JSON.stringify({ cwd: running.worktree.path }));
  expect(branches(repo)).toEqual([`agentvisor/${done.sessionId.slice(0, 8)}`, 'keep/running', 'main']);

  const d = await call(client, 'session_diff', { sessionId: done.sessionId });
  expect(d).toMatchObject({ base, files: [{ status: 'A', path: 'same.txt' }] });
  expect(await callError(client, 'session_cleanup', { sessionId: done.sessionId })).toMatch(/uncommitted changes/);
  expect(await call(client, 'session_cleanup', { sessionId: done.sessionId, force: true, deleteBranch: true })).toMatchObject({ worktreeRemoved: true, branchDeleted: true });
  expect(fs.existsSync(done.worktree.path)).toBe(false);

  await call(client, 'session_kill', { sessionId: running.sessionId });
  await waitEnded(client, running.sessionId);
  expect(await call(client, 'session_cleanup', { sessionId: running.sessionId })).toMatchObject({ worktreeRemoved: true, branchDeleted: false });
  expect(branches(repo)).toEqual(['keep/running', 'main']);
});
