/**
 * The agent inside bubblewrap (issue 16): what it sees, and how signals reach it.
 *
 * The view: `/` read-only, a new pid namespace with its own /proc, a private /tmp (and TMPDIR),
 * STATE_DIR, WORKSPACE_DIR and WORKTREE_DIR hidden under empty read-only tmpfs mounts, then bound
 * back on top: the agents' own state read-write, the session's extra paths, and its cwd read-write. bwrap applies mounts in argv
 * order, so they are sorted parent before child: a path hidden inside the cwd (STATE_DIR under the
 * workspace root) stays hidden, a cwd inside a hidden path is bound back.
 *
 * The cwd and the extra paths are bound by the directory the worker holds, never by a path looked
 * up again: passed to bwrap as descriptors (--bind-fd) of the cwd the worker stands in (see
 * agentCwd.ts) and of each extra path opened and checked against its recorded identity. node-pty
 * passes no descriptors, so an agent on a PTY (Codex over exec) gets the cwd by path, as bwrap
 * resolves its own /proc/self/cwd when it starts: a swap in that window is not ruled out there.
 *
 * Signals: bwrap's outer process (the one we spawn, the leader of the agent's process group)
 * dies of any signal it is sent, and --die-with-parent then SIGKILLs the whole namespace: a
 * SIGINT meant to interrupt a turn, or the SIGTERM that lets an agent end gracefully, would kill
 * it outright. So every signal but SIGKILL goes to the other members of the group (bwrap's init
 * in the namespace ignores it, the kernel drops unhandled signals to a namespace's pid 1), and
 * SIGKILL to the group: the outer bwrap's death takes the namespace, and everything in it, along.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Confinement } from '../shared/protocol';
import { openDirNoFollow } from '../shared/dirHandle';
import type { AgentExit } from './agentProcess';
import { groupMembers } from './processTree';

type MountOp = [flag: '--tmpfs', dest: string] | [flag: '--bind' | '--bind-try' | '--ro-bind' | '--bind-fd' | '--ro-bind-fd', src: string, dest: string];

/** Extra paths opened once per worker: fds held for its life, so every run binds the same directories. */
const held = new Map<string, number>();

function heldDir(p: Confinement['extraPaths'][number]): number {
  const known = held.get(p.path);
  if (known !== undefined) return known;
  const opened = openDirNoFollow(p.path, p.identity);
  if (!opened.ok) throw new Error(`extra path ${p.path} is no longer the directory that was checked (${opened.code}); refusing to start the agent`);
  held.set(p.path, opened.fd);
  return opened.fd;
}

/**
 * Run as root, bwrap would leave the agent its capabilities: enough to unmount what hides
 * STATE_DIR, or remount / read-write. All are dropped (and bwrap sets no_new_privs: no setuid
 * way back), but for CAP_SETFCAP as root, which mapping uid 0 into a user namespace needs since
 * Linux 5.12: Codex's own sandbox (bubblewrap in a user namespace) cannot start without it. It
 * grants nothing over the mounts inherited here (they are locked in any namespace the agent
 * makes), and file capabilities it could set give root no more than root has.
 */
const CAPABILITIES = ['--cap-drop', 'ALL', ...(process.getuid?.() === 0 ? ['--cap-add', 'CAP_SETFCAP'] : [])];

let cwdFd: number | null = null;

/** The worker's cwd (the checked directory) held open for its life: every run binds the same one. */
function heldCwd(): number {
  cwdFd ??= fs.openSync('.', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  return cwdFd;
}

const depth = (p: string) => path.resolve(p).split('/').filter(Boolean).length;

/**
 * bwrap's argv for running `command args` confined as `c` says, in `cwd` (the worker's own cwd),
 * and the held directories bwrap must inherit, in order from fd 3. With `passFds` (a spawn that
 * can pass descriptors: pipes) the cwd and extra paths are bound from those (--bind-fd); without
 * (a PTY: node-pty passes none) the cwd by path and the extra paths from /proc/<worker pid>/fd/N,
 * which bwrap can read when run as root, not from the user namespace it makes for anyone else.
 */
export function bwrapArgs(c: Confinement, cwd: string, command: string, args: string[], passFds = false): { args: string[]; fds: number[] } {
  const ops: MountOp[] = [];
  const fds: number[] = [];
  // A path bound back whole (a session at the workspace root) is not hidden: --remount-ro would hit the bind.
  const bound = new Set([cwd, ...c.extraPaths.map((p) => p.path), ...c.agentState, ...c.readOnlyBinds].map((p) => path.resolve(p)));
  const hidden = c.hidePaths.filter((p) => fs.existsSync(p) && !bound.has(path.resolve(p)));
  for (const p of hidden) ops.push(['--tmpfs', p]);
  for (const p of c.privateDirs) ops.push(['--tmpfs', p]);
  for (const p of c.readOnlyBinds) ops.push(['--ro-bind', p, p]);
  for (const p of c.agentState) ops.push(['--bind-try', p, p]);
  for (const p of c.extraPaths) {
    const fd = heldDir(p);
    if (passFds) ops.push([p.writable ? '--bind-fd' : '--ro-bind-fd', String(3 + fds.push(fd) - 1), p.path]);
    else ops.push([p.writable ? '--bind' : '--ro-bind', `/proc/${process.pid}/fd/${fd}`, p.path]);
  }
  // The worker stands in the checked directory (agentCwd.ts): '.' opens that directory itself.
  if (passFds) ops.push(['--bind-fd', String(3 + fds.push(heldCwd()) - 1), cwd]);
  // bwrap's cwd, inherited from the worker; but bwrap turns a source into a path when it starts and
  // mounts that path, so a swap in that window fails the start (or, at worst, binds what the swap
  // put there): only a descriptor closes the window, and node-pty passes none.
  else ops.push(['--bind', '/proc/self/cwd', cwd]);
  // Stable: at one depth, hiding comes before binding back.
  const sorted = ops.map((op, i) => ({ op, i, d: depth(op[op.length - 1]) })).sort((a, b) => a.d - b.d || a.i - b.i);
  const argv = [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    ...sorted.flatMap((s) => s.op),
    // Last, once every mount point inside them exists: a write there fails instead of landing in an invisible tmpfs.
    ...hidden.flatMap((p) => ['--remount-ro', p]),
    '--chdir',
    cwd,
    '--unshare-pid',
    '--die-with-parent',
    ...CAPABILITIES,
    '--',
    command,
    ...args,
  ];
  return { args: argv, fds };
}

/** Signals a confined agent whose outer bwrap process leads group `pid` (see the header). */
export function signalConfined(pid: number, sig: NodeJS.Signals): void {
  const targets = sig === 'SIGKILL' ? [-pid] : groupMembers(pid).filter((p) => p !== pid);
  for (const t of targets) {
    try {
      process.kill(t, sig);
    } catch {
      // ESRCH: gone already, which is what the signal wanted.
    }
  }
}

const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals as Record<string, number>).map(([name, n]) => [n, name]));

/**
 * bwrap exits 128 + N when the agent died of signal N: the session reports the signal, as it
 * does for an unconfined agent (a kill's SIGTERM, say). SIGKILL of bwrap itself arrives as is.
 */
export function confinedExit(e: AgentExit): AgentExit {
  const name = e.exitCode !== null && e.exitCode > 128 ? SIGNAL_NAMES.get(e.exitCode - 128) : undefined;
  return name ? { exitCode: null, signal: name } : e;
}
