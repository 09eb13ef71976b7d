/**
 * Two REAL Claude Code sessions (node_modules/.bin/claude against the scripted model server) in
 * worktrees of one repository, both writing the same file name: two branches, two diffs, the
 * user's checkout untouched; cleanup refuses while there are changes and works with force.
 */
import fs from 'node:fs';
import path from 'node:path';
import { closeRigs, startRealRig, waitEnded } from '../support/agentEnv';
import { branches, git, makeRepo } from '../support/gitRepo';

afterEach(closeRigs);

test('two Claude sessions, one repository, the same file name: two branches, two diffs, the user checkout untouched', async () => {
  // Run one after the other so each takes its own turns of the one script; both worktrees then coexist.
  const write = (who: string) => [
    { text: `Writing ${who}.`, toolCalls: [{ name: 'Bash', input: { command: `printf 'from ${who}\\n' > same.txt`, description: 'write same.txt' } }] },
    { text: `Wrote same.txt for ${who}.` },
  ];
  const rig = await startRealRig([...write('A'), ...write('B')]);
  const repo = path.join(rig.dirs.workspace, 'shared');
  const base = makeRepo(repo, { 'same.txt': "the user's line\n" });

  const sessions = [];
  for (const who of ['A', 'B']) {
    const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'shared', task: `Write same.txt for ${who}`, worktree: true });
    const ended = await waitEnded(rig.client, s.sessionId);
    expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
    sessions.push(s);
  }
  const [a, b] = sessions;
  expect(a.worktree.path).not.toBe(b.worktree.path);
  for (const [s, who] of [
    [a, 'A'],
    [b, 'B'],
  ] as const) {
    expect(s.cwd).toBe(s.worktree.path);
    expect(fs.readFileSync(path.join(s.worktree.path, 'same.txt'), 'utf8')).toBe(`from ${who}\n`);
    const d = await rig.call('session_diff', { sessionId: s.sessionId });
    expect(d.base).toBe(base);
    expect(d.files).toEqual([{ status: 'M', path: 'same.txt' }]);
    expect(d.lines).toEqual(expect.arrayContaining(["-the user's line", `+from ${who}`]));
  }
  // The user's checkout: same branch, same file, nothing changed.
  expect(fs.readFileSync(path.join(repo, 'same.txt'), 'utf8')).toBe("the user's line\n");
  expect(git(repo, 'status', '--porcelain')).toBe('');
  expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(base);
  expect(branches(repo)).toEqual([`agentvisor/${a.sessionId.slice(0, 8)}`, `agentvisor/${b.sessionId.slice(0, 8)}`, 'main'].sort());

  // Uncommitted work in each: refused, then removed with force; the branch stays unless asked.
  expect(await rig.callError('session_cleanup', { sessionId: a.sessionId })).toMatch(/has uncommitted changes \( M same\.txt\)/);
  expect(fs.existsSync(a.worktree.path)).toBe(true);
  expect(await rig.call('session_cleanup', { sessionId: a.sessionId, force: true })).toMatchObject({ worktreeRemoved: true, branchDeleted: false });
  expect(await rig.call('session_cleanup', { sessionId: b.sessionId, force: true, deleteBranch: true })).toMatchObject({ worktreeRemoved: true, branchDeleted: true });
  expect(fs.existsSync(a.worktree.path) || fs.existsSync(b.worktree.path)).toBe(false);
  expect(branches(repo)).toEqual([`agentvisor/${a.sessionId.slice(0, 8)}`, 'main']);
  expect(fs.readFileSync(path.join(repo, 'same.txt'), 'utf8')).toBe("the user's line\n");
});

test('confined (SANDBOX=auto), Claude commits in its worktree: the commit is on the session branch, the user checkout untouched', async () => {
  const commit = "git add same.txt && git -c user.name=agent -c user.email=agent@example.com commit -qm 'agent work' && git log --oneline -1";
  const rig = await startRealRig([
    { text: 'Committing.', toolCalls: [{ name: 'Bash', input: { command: `printf 'committed\\n' > same.txt && ${commit}`, description: 'commit' } }] },
    { text: 'Committed.' },
  ]);
  const repo = path.join(rig.dirs.workspace, 'repo');
  const base = makeRepo(repo, { 'same.txt': "the user's line\n" });
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'repo', task: 'commit your work', worktree: true });
  expect(s.sandbox).toBe('bwrap');
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  const branch = s.worktree.branch;
  expect(git(repo, 'log', '--format=%s', `${base}..${branch}`).trim()).toBe('agent work');
  expect(git(repo, 'show', `${branch}:same.txt`)).toBe('committed\n');
  expect(git(repo, 'status', '--porcelain')).toBe('');
  expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(base);
  // Committed, so nothing is uncommitted: cleanup needs no force.
  expect(await rig.call('session_cleanup', { sessionId: s.sessionId })).toMatchObject({ worktreeRemoved: true, branchDeleted: false });
});
