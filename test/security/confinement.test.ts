/**
 * Issue 16: every agent confined by bubblewrap. A hostile fake agent (fake-claude's `probe`)
 * tries what the issue showed takes three file reads unconfined: the token, the journal, its own
 * worker's spec file, another session's files, the supervisor's environment, a write into the
 * workspace outside its cwd and one into /etc. Under bwrap (SANDBOX=auto on a host where bwrap
 * works, as CI is) each attempt fails; the same agent with SANDBOX=none succeeds, so the test
 * fails when confinement does not happen. Real supervisor, real workers, real bwrap.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, leftovers, makeDirs, until } from '../helpers/server';
import { bearer, finish, request, startSecurityServer } from './support';
import { makeRepo } from '../support/gitRepo';

/** A stand-in for a token file an earlier run generated (the test servers pass AUTH_TOKEN, which writes none). */
const TOKEN_TEXT = 'token-file-contents-0123456789abcdef';

interface Rig {
  server: RunningServer;
  client: Client;
}

const rigs: Rig[] = [];
/** Made outside the rig's directories (in /etc, /var/tmp), removed after each test. */
const etcFiles: string[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) await finish(r.server, [r.client]);
  for (const f of etcFiles.splice(0)) fs.rmSync(f, { recursive: true, force: true });
});

async function startRig(env: Record<string, string> = {}, dirs = makeDirs()): Promise<Rig> {
  fs.mkdirSync(dirs.stateDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dirs.stateDir, 'token'), TOKEN_TEXT + '\n', { mode: 0o600 });
  const server = await startSecurityServer(env, undefined, dirs).catch((err: unknown) => {
    fs.rmSync(dirs.base, { recursive: true, force: true });
    throw err;
  });
  const rig = { server, client: await connect(server, 'http') };
  rigs.push(rig);
  return rig;
}

function statOf(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
const alive = (pid: number) => (statOf(pid)?.[0] ?? 'Z') !== 'Z';

function ancestors(pid: number): number[] {
  const out: number[] = [];
  for (let p = Number(statOf(pid)?.[1] ?? 0); p > 1; p = Number(statOf(p)?.[1] ?? 0)) out.push(p);
  return out;
}

async function health(server: RunningServer): Promise<any> {
  return (await request(server, { path: '/health', headers: bearer(server.token) })).json;
}

type Attempt = { name: string; op: 'read' | 'write'; path: string } | { name: string; op: 'run'; argv: string[] };

/** Runs the probing agent with `attempts` in `cwd` and returns what each gave ("ok" or an error code). */
async function runProbe(rig: Rig, attempts: Attempt[], start: Record<string, unknown> = {}): Promise<{ results: Record<string, string>; info: any }> {
  const task = `probe ${Buffer.from(JSON.stringify(attempts)).toString('base64')}`;
  const s = await call(rig.client, 'session_start', { agent: 'claude-code', cwd: 'prober', task, ...start });
  let line: string | undefined;
  await until(
    async () => {
      const page = await call(rig.client, 'session_output', { sessionId: s.sessionId, since: 0 });
      line = (page.lines as string[]).find((l) => l.startsWith('probe {'));
      return line !== undefined || !['running', 'killing'].includes(page.status);
    },
    30_000,
    'the probe to report',
  );
  if (!line) throw new Error(`the probing agent printed no results: ${JSON.stringify(await call(rig.client, 'session_output', { sessionId: s.sessionId, since: 0 }))}`);
  return { results: JSON.parse(line.slice('probe '.length)), info: await call(rig.client, 'session_list', {}).then((l) => l.sessions.find((x: any) => x.sessionId === s.sessionId)) };
}

/** What the issue says a hostile agent reaches unconfined in three reads, and more. */
async function probe(rig: Rig): Promise<{ results: Record<string, string>; info: any }> {
  const { stateDir, workspace } = rig.server.dirs;
  fs.mkdirSync(path.join(workspace, 'other'), { recursive: true });
  fs.writeFileSync(path.join(workspace, 'other', 'secret.txt'), "another session's file\n");
  const etc = `/etc/agentvisor-probe-${crypto.randomBytes(6).toString('hex')}`;
  etcFiles.push(etc);
  const attempts: Attempt[] = [
    { name: 'token', op: 'read', path: path.join(stateDir, 'token') },
    { name: 'journal', op: 'read', path: path.join(stateDir, 'journal.db') },
    { name: 'spec', op: 'read', path: path.join(stateDir, 'sessions', '{SESSION}', 'spec.json') },
    { name: 'otherSession', op: 'read', path: path.join(workspace, 'other', 'secret.txt') },
    { name: 'supervisorEnviron', op: 'read', path: `/proc/${rig.server.proc.pid}/environ` },
    { name: 'workspaceWrite', op: 'write', path: path.join(workspace, 'outside.txt') },
    { name: 'etcWrite', op: 'write', path: etc },
    // The control: its own cwd stays writable (and proves the probe ran at all).
    { name: 'ownCwd', op: 'write', path: path.join(workspace, 'prober', 'mine.txt') },
  ];
  return runProbe(rig, attempts);
}

test("confined (SANDBOX=auto with bwrap working): the agent reaches neither agentvisor's state nor other sessions nor anything outside its cwd", async () => {
  const rig = await startRig();
  expect(await health(rig.server)).toMatchObject({ sandbox: 'bwrap' });
  expect((await health(rig.server)).sandboxWarning).toBeUndefined();
  const { results, info } = await probe(rig);
  expect(info.sandbox).toBe('bwrap');
  expect(results).toEqual({
    token: 'ENOENT',
    journal: 'ENOENT',
    spec: 'ENOENT',
    otherSession: 'ENOENT',
    supervisorEnviron: 'ENOENT',
    workspaceWrite: 'EROFS',
    etcWrite: 'EROFS',
    ownCwd: 'ok',
  });
  expect(fs.existsSync(path.join(rig.server.dirs.workspace, 'outside.txt'))).toBe(false);
  expect(fs.readFileSync(path.join(rig.server.dirs.workspace, 'prober', 'mine.txt'), 'utf8')).toMatch(/probing agent/);

  // Nor can it take the covers off (as root, bwrap would have left it the capabilities to), in
  // its own namespaces either (what it inherits there is locked).
  const { stateDir, workspace } = rig.server.dirs;
  const uncover = await runProbe(rig, [
    { name: 'umountState', op: 'run', argv: ['umount', stateDir] },
    { name: 'umountWorkspace', op: 'run', argv: ['umount', '-l', workspace] },
    { name: 'remountRoot', op: 'run', argv: ['mount', '-o', 'remount,rw', '/'] },
    { name: 'inUserNamespace', op: 'run', argv: ['unshare', '-U', '-r', '-m', 'umount', stateDir] },
    { name: 'readAfterwards', op: 'read', path: path.join(stateDir, 'token') },
  ]);
  expect(uncover.results).toEqual({
    umountState: expect.stringMatching(/^exit [1-9]/),
    umountWorkspace: expect.stringMatching(/^exit [1-9]/),
    remountRoot: expect.stringMatching(/^exit [1-9]/),
    inUserNamespace: expect.stringMatching(/^exit [1-9]/),
    readAfterwards: 'ENOENT',
  });
});

test('unconfined (SANDBOX=none): the same agent reads and writes all of it, so the test above can fail', async () => {
  const rig = await startRig({ SANDBOX: 'none' });
  expect(await health(rig.server)).toMatchObject({ sandbox: 'none' });
  const { results, info } = await probe(rig);
  expect(info.sandbox).toBe('none');
  // /etc is writable to root only; CI runs as root.
  const root = process.getuid?.() === 0;
  expect(results).toEqual({
    token: 'ok',
    journal: 'ok',
    spec: 'ok',
    otherSession: 'ok',
    supervisorEnviron: 'ok',
    workspaceWrite: 'ok',
    etcWrite: root ? 'ok' : 'EACCES',
    ownCwd: 'ok',
  });
});

test('readOnlyPaths and writablePaths: a confined agent also reads the one and writes the other, and still nothing else of the workspace', async () => {
  const rig = await startRig();
  const ws = rig.server.dirs.workspace;
  fs.mkdirSync(path.join(ws, 'repo', 'shared'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'repo', 'shared', 'lib.txt'), 'shared code\n');
  fs.mkdirSync(path.join(ws, 'repo', 'sibling'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'repo', 'sibling', 'x.txt'), 'not shared\n');
  const { results, info } = await runProbe(
    rig,
    [
      { name: 'readShared', op: 'read', path: path.join(ws, 'repo', 'shared', 'lib.txt') },
      { name: 'writeShared', op: 'write', path: path.join(ws, 'repo', 'shared', 'new.txt') },
      { name: 'writeOut', op: 'write', path: path.join(ws, 'out', 'result.txt') },
      { name: 'readSibling', op: 'read', path: path.join(ws, 'repo', 'sibling', 'x.txt') },
      // The held directories reach bwrap as fds 3 and 4; it closes them once bound. One left open
      // would let the agent write "read-only" repo/shared through it (openat on the host's mount).
      { name: 'fd3', op: 'run', argv: ['test', '-e', '/proc/self/fd/3'] },
      { name: 'fd4', op: 'run', argv: ['test', '-e', '/proc/self/fd/4'] },
    ],
    { readOnlyPaths: ['repo/shared'], writablePaths: [path.join(ws, 'out')] },
  );
  expect(info.sandbox).toBe('bwrap');
  expect(results).toEqual({ readShared: 'ok', writeShared: 'EROFS', writeOut: 'ok', readSibling: 'ENOENT', fd3: 'exit 1', fd4: 'exit 1' });
  expect(fs.readFileSync(path.join(ws, 'out', 'result.txt'), 'utf8')).toMatch(/probing agent/);
  // Outside the workspace is refused before anything starts, like a cwd there.
  const refused = await call(rig.client, 'session_start', { agent: 'claude-code', cwd: 'prober', task: 'hi', readOnlyPaths: ['/etc'] }).then(
    () => 'started',
    (err: Error) => err.message,
  );
  expect(refused).toMatch(/outside|WORKSPACE_DIR/);
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'started',
    (err: Error) => err.message,
  );

test.each(['auto', 'none'])("SANDBOX=%s: a cwd or extra path at or inside STATE_DIR is refused (it would bring agentvisor's state back); a worktree session under it still starts", async (sandbox) => {
  // The defaults' layout: the server started in ~, so WORKSPACE_DIR holds STATE_DIR (~/.local/state/agentvisor).
  const dirs = makeDirs();
  dirs.stateDir = path.join(dirs.workspace, '.local', 'state', 'agentvisor');
  const rig = await startRig({ SANDBOX: sandbox }, dirs);
  const start = (args: Record<string, unknown>) => outcome(call(rig.client, 'session_start', { agent: 'claude-code', cwd: 'prober', task: 'hi', ...args }));
  expect(await start({ cwd: '.local/state/agentvisor' })).toMatch(/cwd .* is agentvisor's own state directory or inside it \(STATE_DIR/);
  expect(await start({ cwd: '.local/state/agentvisor/logs' })).toMatch(/inside it \(STATE_DIR/);
  expect(await start({ writablePaths: ['.local/state/agentvisor/sessions'] })).toMatch(/writable path .* \(STATE_DIR/);
  expect(await start({ readOnlyPaths: [dirs.stateDir] })).toMatch(/read-only path .* \(STATE_DIR/);
  // Refused before anything was made there.
  expect(fs.existsSync(path.join(dirs.stateDir, 'logs', 'agentvisor.log'))).toBe(true);
  expect(fs.readdirSync(path.join(dirs.stateDir, 'sessions'))).toEqual([]);
  // A worktree agentvisor makes itself in STATE_DIR/worktrees (WORKTREE_DIR's default) is fine.
  makeRepo(path.join(dirs.workspace, 'repo'), { 'README.md': 'hi\n' });
  const s = await call(rig.client, 'session_start', { agent: 'claude-code', cwd: 'repo', task: 'hi', worktree: true });
  expect(s.cwd.startsWith(path.join(dirs.stateDir, 'worktrees') + path.sep)).toBe(true);
  await until(async () => (await call(rig.client, 'session_output', { sessionId: s.sessionId, since: 0 })).lines.includes('echo: hi'), 20_000, 'the worktree session to answer');
});

/** A worktree session started in repo/docs, running `attempts` (the same probe as above). */
async function worktreeProbe(rig: Rig, attempts: Attempt[]) {
  return runProbe(rig, attempts, { cwd: 'repo/docs', worktree: true });
}

test.each([
  ['auto', 'ENOENT'],
  ['none', 'ok'],
])("SANDBOX=%s with WORKTREE_DIR outside STATE_DIR: another session's worktree reads %s; a subdirectory worktree session runs git", async (sandbox, other) => {
  const dirs = makeDirs();
  // Not under /tmp, which a confined agent gets a private one of anyway (hiding it for other reasons).
  const worktrees = fs.mkdtempSync('/var/tmp/agentvisor-worktrees-');
  etcFiles.push(worktrees);
  const rig = await startRig({ SANDBOX: sandbox, WORKTREE_DIR: worktrees }, dirs);
  makeRepo(path.join(dirs.workspace, 'repo'), { 'README.md': 'hi\n', 'docs/a.md': 'a\n' });
  const first = await call(rig.client, 'session_start', { agent: 'claude-code', cwd: 'repo', task: 'hi', worktree: true });
  expect(first.worktree.path.startsWith(worktrees + path.sep)).toBe(true);
  const { results, info } = await worktreeProbe(rig, [
    { name: 'otherWorktree', op: 'read', path: path.join(first.worktree.path, 'README.md') },
    { name: 'ownFile', op: 'read', path: 'a.md' },
    { name: 'gitStatus', op: 'run', argv: ['git', 'status', '--porcelain'] },
  ]);
  expect(info.sandbox).toBe(sandbox === 'auto' ? 'bwrap' : 'none');
  expect(results).toEqual({ otherWorktree: other, ownFile: 'ok', gitStatus: 'ok' });
});

test('a confined agent that ignores SIGTERM gets it, and is gone after session_kill with every process of its sandbox', async () => {
  const rig = await startRig({ KILL_GRACE: '1500' });
  const s = await call(rig.client, 'session_start', { agent: 'claude-code', cwd: 'stubborn', task: 'ignore-term' });
  expect(s.sandbox).toBe('bwrap');
  await until(async () => (await call(rig.client, 'session_output', { sessionId: s.sessionId, since: 0 })).lines.includes('holding on'), 15_000, 'the agent to run');
  // The agent's pid is the sandbox's outer bwrap; the agent itself runs two levels below it.
  const bwrapPid: number = s.pid;
  expect(fs.readFileSync(`/proc/${bwrapPid}/cmdline`, 'utf8').split('\0')).toContain('--unshare-pid');
  // bwrap's init (pid 1 of the namespace) and the agent under it.
  const inside = leftovers(rig.server.dirs).filter((p) => p !== bwrapPid && ancestors(p).includes(bwrapPid));
  expect(inside.length).toBeGreaterThanOrEqual(2);

  await call(rig.client, 'session_kill', { sessionId: s.sessionId });
  await until(async () => ['killed', 'exited'].includes((await call(rig.client, 'session_output', { sessionId: s.sessionId, since: 0 })).status), 20_000, 'the session to end');
  const page = await call(rig.client, 'session_output', { sessionId: s.sessionId, since: 0 });
  // SIGTERM reached the agent inside the sandbox (not only bwrap, whose death would SIGKILL it at once).
  expect(page.lines).toContain('ignoring SIGTERM');
  const listed = (await call(rig.client, 'session_list', {})).sessions.find((x: any) => x.sessionId === s.sessionId);
  expect(listed).toMatchObject({ status: 'killed', endReason: 'killed', sandbox: 'bwrap' });
  await until(() => [bwrapPid, ...inside].every((pid) => !alive(pid)), 5_000, 'every process of the sandbox to be gone');
});

test('a PATH without bwrap: the server starts with one warning (log, /health) and runs agents unconfined', async () => {
  // node alone on PATH: the agents' `#!/usr/bin/env node` still finds it, bwrap is nowhere.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-nobwrap-'));
  try {
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const rig = await startRig({ PATH: bin });
    const h = await health(rig.server);
    expect(h).toMatchObject({ sandbox: 'none', sandboxWarning: expect.stringMatching(/UNCONFINED .*bwrap \(bubblewrap\) is not on PATH/) });
    expect(
      rig.server
        .stderr()
        .split('\n')
        .filter((l) => l.includes('UNCONFINED')),
    ).toHaveLength(1);
    const { results, info } = await probe(rig);
    expect(info.sandbox).toBe('none');
    expect(results).toMatchObject({ token: 'ok', otherSession: 'ok', ownCwd: 'ok' });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});
