/**
 * session_start with worktree, session_diff against the base commit, session_cleanup and
 * `agentvisor worktrees`, where only agentvisor's side matters: the fake Codex writes a file
 * in its cwd. (test/realAgents/worktrees.test.ts does it with the real Claude CLI.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, TEST_TOKEN, call, callError, connect, makeDirs, reapLeftovers, startServer } from '../helpers/server';
import { cliEnv, runCli, waitEnded } from '../cli/cli';
import { Journal } from '../../src/supervisor/journal';
import { branches, git, makeRepo } from '../support/gitRepo';

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer({ env: { KILL_GRACE: '1000' } });
  client = await connect(server);
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

test('a session in a worktree: own branch and directory, the user checkout untouched, diff from the base commit, cleanup', async () => {
  const repo = path.join(server.dirs.workspace, 'proj');
  const base = makeRepo(repo, { 'README.md': 'hi\n', 'sub/keep.txt': 'keep\n' });
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'proj/sub', task: 'write same.txt from-agent', worktree: true });
  const short = s.sessionId.slice(0, 8);
  const wtDir = path.join(server.dirs.stateDir, 'worktrees', `proj-${short}`);
  expect(s.worktree).toEqual({ path: wtDir, branch: `agentvisor/${short}`, baseCommit: base, repo });
  // The agent runs in the same subdirectory of its worktree.
  expect(s.cwd).toBe(path.join(wtDir, 'sub'));
  await waitEnded(client, s.sessionId);
  expect(fs.readFileSync(path.join(wtDir, 'sub', 'same.txt'), 'utf8')).toBe('from-agent\n');
  expect(fs.existsSync(path.join(repo, 'sub', 'same.txt'))).toBe(false);
  expect(git(repo, 'status', '--porcelain')).toBe('');
  expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
  expect(branches(repo)).toEqual([`agentvisor/${short}`, 'main']);

  // The agent's commit and its uncommitted file both count: the diff is from the base commit.
  fs.writeFileSync(path.join(wtDir, 'README.md'), 'changed\n');
  git(wtDir, 'commit', '-qam', 'agent commit');
  const d = await call(client, 'session_diff', { sessionId: s.sessionId });
  expect(d.base).toBe(base);
  expect(d.files).toEqual(
    expect.arrayContaining([
      { status: 'M', path: 'README.md' },
      { status: 'A', path: 'sub/same.txt' },
    ]),
  );
  expect(d.lines).toEqual(expect.arrayContaining(['+from-agent', '-hi', '+changed']));

  // Listed by the CLI, not an orphan.
  const env = cliEnv(server.dirs, { AUTH_TOKEN: TEST_TOKEN });
  const listed = JSON.parse((await runCli(['worktrees', '--json'], env, server.dirs.base)).stdout);
  expect(listed).toEqual([expect.objectContaining({ sessionId: s.sessionId, branch: `agentvisor/${short}`, baseCommit: base, repo, gitDir: path.join(repo, '.git'), path: wtDir, orphan: [] })]);

  // Uncommitted work: refused without force, naming the file.
  expect(await callError(client, 'session_cleanup', { sessionId: s.sessionId, deleteBranch: true })).toMatch(/uncommitted changes \(\?\? sub\/same\.txt\)/);
  expect(fs.existsSync(wtDir)).toBe(true);
  const removed = await call(client, 'session_cleanup', { sessionId: s.sessionId, deleteBranch: true, force: true });
  expect(removed).toMatchObject({ worktreeRemoved: true, branchDeleted: true, path: wtDir });
  expect(fs.existsSync(wtDir)).toBe(false);
  expect(branches(repo)).toEqual(['main']);
  expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(wtDir);
  expect(await callError(client, 'session_cleanup', { sessionId: s.sessionId })).toMatch(/already removed/);
  // Its conversation cannot continue where its worktree was.
  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: 'again' })).toMatch(/worktree was removed by session_cleanup/);
  expect(JSON.parse((await runCli(['worktrees', '--json'], env, server.dirs.base)).stdout)).toEqual([]);
});

test('a named branch; a clean worktree is removed without force and its branch kept; orphans are flagged', async () => {
  const repo = path.join(server.dirs.workspace, 'named');
  makeRepo(repo);
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'named', task: 'lines 1', worktree: 'feature/x-1' });
  expect(s.worktree.branch).toBe('feature/x-1');
  expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'named', task: 'lines 1', worktree: 'feature/x-1' })).toMatch(/branch "feature\/x-1" already exists/);
  await waitEnded(client, s.sessionId);
  // A second worktree whose directory someone deleted by hand.
  const gone = await call(client, 'session_start', { agent: 'codex', cwd: 'named', task: 'lines 1', worktree: true });
  await waitEnded(client, gone.sessionId);
  fs.rmSync(gone.worktree.path, { recursive: true, force: true });
  // One whose branch was deleted by hand, and whose session retention forgot.
  const pruned = await call(client, 'session_start', { agent: 'codex', cwd: 'named', task: 'lines 1', worktree: true });
  await waitEnded(client, pruned.sessionId);
  fs.rmSync(pruned.worktree.path, { recursive: true, force: true });
  git(repo, 'worktree', 'prune');
  git(repo, 'branch', '-D', pruned.worktree.branch);
  const journal = new Journal(path.join(server.dirs.stateDir, 'journal.db'));
  try {
    expect(journal.forgetEnded([pruned.sessionId])).toBe(1); // what retention does past ENDED_SESSIONS_KEPT
  } finally {
    journal.close();
  }
  // A cwd the base commit does not have (an empty, untracked directory): made in the worktree too.
  const fresh = await call(client, 'session_start', { agent: 'codex', cwd: 'named/not-in-git', task: 'cwd', worktree: true });
  expect(fresh.cwd).toBe(path.join(fresh.worktree.path, 'not-in-git'));
  await waitEnded(client, fresh.sessionId);
  expect(await call(client, 'session_cleanup', { sessionId: fresh.sessionId, deleteBranch: true })).toMatchObject({ worktreeRemoved: true, branchDeleted: true });
  // And a directory no session recorded.
  fs.mkdirSync(path.join(server.dirs.stateDir, 'worktrees', 'stray'));
  const env = cliEnv(server.dirs, { AUTH_TOKEN: TEST_TOKEN });
  const listed = JSON.parse((await runCli(['worktrees', '--json'], env, server.dirs.base)).stdout);
  expect(listed).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ sessionId: s.sessionId, orphan: [] }),
      expect.objectContaining({ sessionId: gone.sessionId, orphan: ['dir gone'] }),
      expect.objectContaining({ sessionId: pruned.sessionId, orphan: ['dir gone', 'branch gone', 'session pruned'] }),
      expect.objectContaining({ sessionId: null, path: path.join(server.dirs.stateDir, 'worktrees', 'stray'), orphan: ['not in journal'] }),
    ]),
  );
  const table = (await runCli(['worktrees'], env, server.dirs.base)).stdout;
  expect(table).toMatch(new RegExp(`${gone.sessionId.slice(0, 8)}.*dir gone`));

  expect(await call(client, 'session_cleanup', { sessionId: s.sessionId })).toMatchObject({ worktreeRemoved: true, branchDeleted: false });
  expect(branches(repo)).toContain('feature/x-1');
  expect(await call(client, 'session_cleanup', { sessionId: gone.sessionId, deleteBranch: true })).toMatchObject({
    worktreeRemoved: true,
    branchDeleted: true,
    notes: [expect.stringMatching(/already gone/)],
  });
  // A forgotten session's worktree is still cleaned up by its id.
  expect(await call(client, 'session_cleanup', { sessionId: pruned.sessionId, deleteBranch: true })).toMatchObject({ worktreeRemoved: true, branchDeleted: false });
  fs.rmdirSync(path.join(server.dirs.stateDir, 'worktrees', 'stray'));
});

test('refusals: no repository, no commit, a bad branch name, a running session', async () => {
  fs.mkdirSync(path.join(server.dirs.workspace, 'plain'));
  expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'plain', task: 'lines 1', worktree: true })).toMatch(/not inside a git repository/);
  const empty = path.join(server.dirs.workspace, 'empty');
  fs.mkdirSync(empty);
  git(empty, 'init', '-q');
  expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'empty', task: 'lines 1', worktree: true })).toMatch(/no commit yet/);
  const repo = path.join(server.dirs.workspace, 'bad');
  makeRepo(repo);
  for (const bad of ['a..b', '-rf', 'x y', 'ends.lock', '@{-1}', 'a/', '']) {
    expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'bad', task: 'lines 1', worktree: bad })).toMatch(/worktree branch/);
  }
  expect(branches(repo)).toEqual(['main']);
  expect(fs.readdirSync(path.join(server.dirs.stateDir, 'worktrees')).filter((n) => n.startsWith('bad-'))).toEqual([]);
  const running = await call(client, 'session_start', { agent: 'codex', cwd: 'bad', task: 'silent', worktree: true });
  expect(await callError(client, 'session_cleanup', { sessionId: running.sessionId, force: true })).toMatch(/still running; end it with session_kill/);
  await call(client, 'session_kill', { sessionId: running.sessionId });
  await waitEnded(client, running.sessionId);
  expect(await call(client, 'session_cleanup', { sessionId: running.sessionId, deleteBranch: true })).toMatchObject({ worktreeRemoved: true, branchDeleted: true });
  const plainSession = await call(client, 'session_start', { agent: 'codex', cwd: 'plain', task: 'lines 1' });
  expect(await callError(client, 'session_cleanup', { sessionId: plainSession.sessionId })).toMatch(/has no worktree/);
});

test('without git on the PATH, a worktree start says git is missing, not that there is no repository', async () => {
  // A PATH with node (the fake agents' interpreter) and nothing else.
  const bin = path.join(server.dirs.base, 'node-only-bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const noGit = await startServer({ env: { PATH: bin } });
  const c = await connect(noGit);
  try {
    makeRepo(path.join(noGit.dirs.workspace, 'repo'));
    expect(await callError(c, 'session_start', { agent: 'codex', cwd: 'repo', task: 'lines 1', worktree: true })).toMatch(/git is not installed/);
  } finally {
    await c.close();
    await noGit.stop();
    fs.rmSync(noGit.dirs.base, { recursive: true, force: true });
  }
});

// The supervisor runs git (unconfined) in repositories the agent can write: their config and
// .gitattributes are agent input. A filter driver or a diff textconv configured there must not run
// in the supervisor on session_start's snapshot, session_diff, session_cleanup's uncommitted check
// or a worktree's checkout.
/** What an agent can do with write access to a repository: drivers that would leave `marker` behind. */
function plant(repoConfigDir: string, marker: string): void {
  const cmd = `touch '${marker}'; cat`;
  git(repoConfigDir, 'config', 'filter.evil.clean', cmd);
  git(repoConfigDir, 'config', 'filter.evil.smudge', cmd);
  git(repoConfigDir, 'config', 'filter.evil2.process', `touch '${marker}'; false`);
  git(repoConfigDir, 'config', 'diff.evil.textconv', cmd);
}
const ATTRS = '*.txt filter=evil diff=evil\n*.dat filter=evil2\n';

test('filters and textconv in an agent-written config run nothing on session_diff', async () => {
  const repo = path.join(server.dirs.workspace, 'plain');
  makeRepo(repo, { 'a.txt': 'one\n', 'b.dat': 'bin\n' });
  const marker = path.join(server.dirs.base, 'marker-diff');
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'plain', task: 'lines 1' });
  await waitEnded(client, s.sessionId);
  // The agent, in its cwd: config, attributes, changed files.
  plant(repo, marker);
  fs.writeFileSync(path.join(repo, '.gitattributes'), ATTRS);
  fs.writeFileSync(path.join(repo, 'a.txt'), 'two\n');
  fs.writeFileSync(path.join(repo, 'b.dat'), 'bin2\n');
  // The marker first: a driver that ran may also have made the call fail.
  const d = await call(client, 'session_diff', { sessionId: s.sessionId }).catch((e: Error) => e);
  expect(fs.existsSync(marker)).toBe(false);
  expect(d.files).toEqual(expect.arrayContaining([{ status: 'M', path: 'a.txt' }]));
  expect(d.lines).toEqual(expect.arrayContaining(['-one', '+two']));
});

test('filters in the common git dir run nothing on worktree add, session_diff or session_cleanup', async () => {
  const repo = path.join(server.dirs.workspace, 'wt');
  makeRepo(repo, { 'a.txt': 'one\n', 'b.dat': 'bin\n', '.gitattributes': ATTRS });
  const marker = path.join(server.dirs.base, 'marker-wt');
  // An earlier session's agent wrote the shared config (its worktree's git dir is writable to it).
  plant(repo, marker);
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'wt', task: 'lines 1', worktree: true }).catch((e: Error) => e);
  expect(fs.existsSync(marker)).toBe(false);
  await waitEnded(client, s.sessionId);
  expect(fs.readFileSync(path.join(s.worktree.path, 'a.txt'), 'utf8')).toBe('one\n');
  fs.writeFileSync(path.join(s.worktree.path, 'a.txt'), 'two, longer\n');
  fs.writeFileSync(path.join(s.worktree.path, 'b.dat'), 'bin, longer\n');
  const d = await call(client, 'session_diff', { sessionId: s.sessionId });
  expect(d.lines).toEqual(expect.arrayContaining(['-one', '+two, longer']));
  expect(await callError(client, 'session_cleanup', { sessionId: s.sessionId })).toMatch(/uncommitted changes/);
  expect(fs.existsSync(marker)).toBe(false);
  expect(await call(client, 'session_cleanup', { sessionId: s.sessionId, deleteBranch: true, force: true })).toMatchObject({ worktreeRemoved: true });
  expect(fs.existsSync(marker)).toBe(false);
});

test('a worktree is refused when the repository lies above WORKSPACE_DIR', async () => {
  const dirs = makeDirs();
  // The repository is the test's base directory; WORKSPACE_DIR (dirs.workspace) is a subdirectory of it.
  const base = makeRepo(dirs.base, { 'outside.txt': 'not the workspace\n' });
  fs.mkdirSync(path.join(dirs.workspace, 'inner'), { recursive: true });
  // WORKTREE_DIR outside the repository, so only the new check can refuse.
  const worktrees = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-wt-'));
  const other = await startServer({ dirs, env: { WORKTREE_DIR: worktrees } });
  const c = await connect(other);
  try {
    const refused = await callError(c, 'session_start', { agent: 'codex', cwd: 'inner', task: 'lines 1', worktree: true });
    expect(branches(dirs.base)).toEqual(['main']);
    expect(git(dirs.base, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(fs.readdirSync(worktrees)).toEqual([]);
    expect(refused).toMatch(/outside WORKSPACE_DIR/);
    expect(git(dirs.base, 'rev-parse', 'HEAD').trim()).toBe(base);
  } finally {
    await c.close();
    await other.stop();
    reapLeftovers(dirs);
    fs.rmSync(dirs.base, { recursive: true, force: true });
    fs.rmSync(worktrees, { recursive: true, force: true });
  }
});
