/**
 * The bubblewrap argv a confined agent runs under (worker/sandbox.ts), in process: mounts ordered
 * parent before child, hidden paths made read-only last, the cwd and extra paths bound by held
 * directory (never by their path), and the confinement decided from an agent's environment.
 * The real sandbox is tested in test/security/confinement.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { identityOf } from '../../src/shared/dirHandle';
import type { Confinement } from '../../src/shared/protocol';
import { confinementFor } from '../../src/supervisor/sandbox/confinement';
import { bwrapArgs, confinedExit } from '../../src/worker/sandbox';

let base: string;
beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-args-')));
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

/** The mount operations of an argv, as [flag, ...operands] in order. */
function mounts(argv: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    const two = ['--ro-bind', '--bind', '--bind-try', '--bind-fd', '--ro-bind-fd'].includes(argv[i]);
    const one = ['--tmpfs', '--remount-ro', '--dev', '--proc', '--chdir'].includes(argv[i]);
    if (two) out.push(argv.slice(i, (i += 2) + 1));
    else if (one) out.push(argv.slice(i, (i += 1) + 1));
  }
  return out;
}

test("hidden paths first, what is bound back after, parents before children; hidden ones read-only last; the cwd by the worker's own cwd", () => {
  const ws = path.join(base, 'ws');
  const state = path.join(ws, 'state'); // STATE_DIR inside the workspace: hidden even inside a bound cwd
  fs.mkdirSync(state, { recursive: true });
  const c: Confinement = { bwrapBin: '/usr/bin/bwrap', hidePaths: [state, ws], privateDirs: [], agentState: ['/home/u/.claude'], readOnlyBinds: [], extraPaths: [] };
  const cwd = path.join(ws, 'proj');
  const argv = bwrapArgs(c, cwd, '/bin/agent', ['--flag', '--', 'task']).args;
  expect(mounts(argv)).toEqual([
    ['--ro-bind', '/', '/'],
    ['--dev', '/dev'],
    ['--proc', '/proc'],
    ['--tmpfs', '/tmp'],
    ['--tmpfs', ws],
    ['--bind-try', '/home/u/.claude', '/home/u/.claude'],
    // Same depth: in the order hidden, private, read-only, agent state, extra paths, cwd.
    ['--tmpfs', state],
    ['--bind', '/proc/self/cwd', cwd],
    ['--remount-ro', state],
    ['--remount-ro', ws],
    ['--chdir', cwd],
  ]);
  expect(argv).toEqual(expect.arrayContaining(['--unshare-pid', '--die-with-parent']));
  expect(argv.slice(argv.indexOf('--'))).toEqual(['--', '/bin/agent', '--flag', '--', 'task']);
});

test('a session at the workspace root: the workspace is its cwd, bound read-write, not hidden nor made read-only', () => {
  const ws = path.join(base, 'ws');
  const state = path.join(base, 'state');
  fs.mkdirSync(ws);
  fs.mkdirSync(state);
  const c: Confinement = { bwrapBin: '/usr/bin/bwrap', hidePaths: [state, ws], privateDirs: [], agentState: [], readOnlyBinds: [], extraPaths: [] };
  const m = mounts(bwrapArgs(c, ws, '/bin/agent', []).args);
  expect(m.filter((x) => x.includes(ws))).toEqual([
    ['--bind', '/proc/self/cwd', ws],
    ['--chdir', ws],
  ]);
  expect(m).toContainEqual(['--remount-ro', state]);
});

test('extra paths are bound from a directory opened and checked against its identity; a swapped one refuses the start', () => {
  const ws = path.join(base, 'ws');
  const shared = path.join(ws, 'shared');
  fs.mkdirSync(shared, { recursive: true });
  const identity = identityOf(fs.statSync(shared, { bigint: true }));
  const c: Confinement = { bwrapBin: '/usr/bin/bwrap', hidePaths: [ws], privateDirs: [], agentState: [], readOnlyBinds: [], extraPaths: [{ path: shared, writable: false, identity }] };
  // A PTY spawn passes no descriptors: the worker's own /proc entry for the held one.
  const bind = mounts(bwrapArgs(c, path.join(ws, 'cwd'), '/bin/agent', []).args).find((m) => m[2] === shared)!;
  expect(bind[0]).toBe('--ro-bind');
  expect(bind[1]).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
  expect(fs.realpathSync(bind[1])).toBe(shared);
  // Pipes pass it to bwrap as fd 3, the same held descriptor.
  const piped = bwrapArgs(c, path.join(ws, 'cwd'), '/bin/agent', [], true);
  expect(mounts(piped.args).find((m) => m[2] === shared)).toEqual(['--ro-bind-fd', '3', shared]);
  // …and the cwd as fd 4: the worker's own cwd, opened as '.'.
  expect(mounts(piped.args).find((m) => m[2] === path.join(ws, 'cwd'))).toEqual(['--bind-fd', '4', path.join(ws, 'cwd')]);
  expect(piped.fds[0]).toBe(Number(bind[1].split('/').at(-1)));
  expect(fs.realpathSync(`/proc/self/fd/${piped.fds[1]}`)).toBe(process.cwd());

  const other = path.join(ws, 'other');
  fs.mkdirSync(other);
  const swapped = { ...c, extraPaths: [{ path: other, writable: true, identity }] };
  expect(() => bwrapArgs(swapped, path.join(ws, 'cwd'), '/bin/agent', [], true)).toThrow(/no longer the directory that was checked/);
});

test("confinementFor: STATE_DIR, WORKSPACE_DIR and WORKTREE_DIR (created) hidden, TMPDIR private, the agent's own state writable and created, its installation bound back when hidden", () => {
  const home = path.join(base, 'home');
  const ws = path.join(base, 'ws');
  const install = path.join(ws, 'tools', 'node_modules', '@openai', 'codex', 'bin');
  fs.mkdirSync(install, { recursive: true });
  fs.writeFileSync(path.join(install, 'codex.js'), '');
  const c = confinementFor({
    bwrapBin: '/usr/bin/bwrap',
    stateDir: path.join(base, 'state'),
    workspaceDir: ws,
    worktreeDir: path.join(base, 'worktrees'),
    agent: 'claude-code',
    agentBin: path.join(install, 'codex.js'),
    env: { HOME: home, TMPDIR: path.join(base, 'tmp'), PATH: '/usr/bin:/bin' },
    extraPaths: [],
  });
  expect(c.hidePaths).toEqual([path.join(base, 'state'), ws, path.join(base, 'worktrees')]);
  expect(fs.statSync(path.join(base, 'worktrees')).isDirectory()).toBe(true);
  expect(c.privateDirs).toEqual([path.join(base, 'tmp')]);
  expect(c.agentState).toEqual([path.join(home, '.claude'), path.join(home, '.cache'), path.join(home, '.claude.json')]);
  expect(fs.statSync(path.join(home, '.claude')).isDirectory()).toBe(true);
  expect(fs.readFileSync(path.join(home, '.claude.json'), 'utf8')).toBe('{}\n');
  expect(c.readOnlyBinds).toEqual([path.join(ws, 'tools', 'node_modules')]);

  // Codex: its home, not Claude's; an existing ~/.claude.json is never rewritten.
  fs.writeFileSync(path.join(home, '.claude.json'), '{"kept":true}');
  const x = confinementFor({
    bwrapBin: '/b',
    stateDir: path.join(base, 'state'),
    workspaceDir: ws,
    worktreeDir: path.join(base, 'state', 'worktrees'),
    agent: 'codex',
    agentBin: '/usr/bin/true',
    env: { HOME: home, CODEX_HOME: path.join(base, 'ch') },
    extraPaths: [],
  });
  expect(x.agentState).toEqual([path.join(base, 'ch'), path.join(home, '.cache')]);
  expect(x.readOnlyBinds).toEqual([]);

  // An agent installed in what becomes private inside (TMPDIR, like /tmp): its directory bound back.
  const tmp = path.join(base, 'tmp');
  fs.mkdirSync(path.join(tmp, 'bin'), { recursive: true });
  const y = confinementFor({
    bwrapBin: '/b',
    stateDir: path.join(base, 'state'),
    workspaceDir: ws,
    worktreeDir: path.join(base, 'state', 'worktrees'),
    agent: 'codex',
    agentBin: path.join(tmp, 'bin', 'agent.js'),
    env: { TMPDIR: tmp },
    extraPaths: [],
  });
  expect(y.readOnlyBinds).toEqual([path.join(tmp, 'bin')]);
  expect(fs.readFileSync(path.join(home, '.claude.json'), 'utf8')).toBe('{"kept":true}');
});

test("bwrap's 128 + N for an agent killed by signal N reads as that signal; other exits as they are", () => {
  expect(confinedExit({ exitCode: 143, signal: null })).toEqual({ exitCode: null, signal: 'SIGTERM' });
  expect(confinedExit({ exitCode: 130, signal: null })).toEqual({ exitCode: null, signal: 'SIGINT' });
  expect(confinedExit({ exitCode: null, signal: 'SIGKILL' })).toEqual({ exitCode: null, signal: 'SIGKILL' });
  expect(confinedExit({ exitCode: 1, signal: null })).toEqual({ exitCode: 1, signal: null });
  expect(confinedExit({ exitCode: 128, signal: null })).toEqual({ exitCode: 128, signal: null });
  expect(confinedExit({ exitCode: 255, signal: null })).toEqual({ exitCode: 255, signal: null });
});
