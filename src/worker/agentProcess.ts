/**
 * The agent's OS process, behind one small interface whether it runs on pipes
 * (Claude Code's stream-json) or under a PTY (Codex, which wants a terminal).
 * Either way the agent leads its own process group, so a kill reaches
 * everything it started (shells, test runners) and not the worker.
 * Either way it starts in the worker's cwd, which agentCwd set to the checked
 * directory by handle: no cwd path is looked up again at spawn time.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { IPty } from 'node-pty';
import { WorkerTimeouts } from '../shared/constants';
import type { DirIdentity } from '../shared/dirHandle';
import { loadPty, ptyRefusal } from '../shared/ptyLoader';
import type { Confinement } from '../shared/protocol';
import { enterAgentCwd } from './agentCwd';
import { bwrapArgs, confinedExit, signalConfined } from './sandbox';

export interface AgentExit {
  exitCode: number | null;
  signal: string | null;
}

export interface AgentLaunch {
  command: string;
  args: string[];
  cwd: string;
  /** The cwd's device + inode as the supervisor checked it (null: not recorded). */
  cwdIdentity: DirIdentity | null;
  env: Record<string, string>;
  /** Run inside bubblewrap as this says (issue 16); absent or null: unconfined. */
  confinement?: Confinement | null;
}

export interface AgentProcess {
  readonly pid: number;
  write(data: string): void;
  /** End of input (pipes only; a PTY has no separate EOF we rely on). */
  closeInput(): void;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
  onStdout(cb: (text: string) => void): void;
  onStderr(cb: (text: string) => void): void;
  onExit(cb: (exit: AgentExit) => void): void;
}

/** What is executed: the agent itself, or bwrap running it (the worker already stands in the cwd). */
function commandOf(launch: AgentLaunch, passFds = false): { command: string; args: string[]; fds: number[]; signal: (pid: number, sig: NodeJS.Signals) => void; exit: (e: AgentExit) => AgentExit } {
  const c = launch.confinement;
  if (!c) return { command: launch.command, args: launch.args, fds: [], signal: signalGroup, exit: (e) => e };
  return { command: c.bwrapBin, ...bwrapArgs(c, launch.cwd, launch.command, launch.args, passFds), signal: signalConfined, exit: confinedExit };
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone, which is what the signal wanted.
  }
}

/**
 * Spawns on pipes. Throws (synchronously) for bad arguments and for a cwd that is no longer
 * the checked directory; a missing binary is reported via onExit.
 */
export function spawnPiped(launch: AgentLaunch): AgentProcess {
  enterAgentCwd(launch.cwd, launch.cwdIdentity);
  const run = commandOf(launch, true);
  const child = spawn(run.command, run.args, {
    // No cwd: the child inherits the worker's, which is the checked directory itself.
    env: launch.env,
    // A confined agent's cwd and extra directories go to bwrap from fd 3 on; it closes them once bound.
    stdio: ['pipe', 'pipe', 'pipe', ...run.fds],
    detached: true, // own process group; we never unref: the worker waits for it
  }) as ChildProcessWithoutNullStreams; // 0-2 are pipes whatever follows them
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  // EPIPE when the agent dies with input pending: the exit handler reports the death.
  child.stdin.on('error', () => undefined);
  let exitCb: ((e: AgentExit) => void) | undefined;
  let exited: AgentExit | undefined;
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  let drainTimer: NodeJS.Timeout | undefined;
  const report = (code: number | null, sig: NodeJS.Signals | null) => {
    if (exited) return;
    clearTimeout(drainTimer);
    exited = run.exit({ exitCode: spawnError && code === null ? 127 : code, signal: sig });
    exitCb?.(exited);
  };
  // 'close' (not 'exit') so every byte of stdout/stderr has been delivered first; but a
  // grandchild holding the pipes would keep them open for good (#12 item 5), so the exit
  // counts once they have had stdioDrainGraceMs to drain.
  child.on('close', (code, sig) => report(code, sig));
  child.on('exit', (code, sig) => {
    drainTimer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      report(code, sig);
    }, WorkerTimeouts.stdioDrainGraceMs);
  });
  return {
    get pid() {
      return child.pid ?? -1;
    },
    write: (data) => {
      if (child.stdin.writable) child.stdin.write(data);
    },
    closeInput: () => child.stdin.end(),
    signal: (sig) => {
      if (child.pid) run.signal(child.pid, sig);
    },
    onStdout: (cb) => child.stdout.on('data', cb),
    onStderr: (cb) => child.stderr.on('data', cb),
    onExit: (cb) => {
      exitCb = cb;
      if (exited) cb(exited);
    },
  };
}

/**
 * Spawns under a PTY (node-pty makes the child a session leader, so its pid is its group id).
 * Throws like spawnPiped for a cwd that is no longer the checked directory.
 */
export function spawnPty(launch: AgentLaunch, cols = 200, rows = 50): AgentProcess {
  const pty = loadPty();
  // The supervisor refuses a new session that would need it; this is a continued one on a host that lost it.
  if (!pty.ok) throw new Error(ptyRefusal('continuing this session (its agent runs in a terminal)') ?? pty.error);
  enterAgentCwd(launch.cwd, launch.cwdIdentity);
  const run = commandOf(launch);
  const term = pty.pty.spawn(run.command, run.args, {
    name: 'xterm-256color',
    cols,
    rows,
    // node-pty chdirs the child to this path (default: process.cwd(), a path looked up again).
    // '.' is the worker's cwd, the checked directory; node-pty also exports it as PWD, which
    // shells ignore as not absolute and recompute with getcwd.
    cwd: '.',
    env: launch.env,
  });
  const stdoutCbs: Array<(t: string) => void> = [];
  const deliver = (d: string) => stdoutCbs.forEach((cb) => cb(d));
  term.onData(deliver);
  drainBeforeClose(term, deliver);
  return {
    pid: term.pid,
    write: (data) => {
      try {
        term.write(data);
      } catch {
        // The PTY is closing; the exit handler reports why.
      }
    },
    closeInput: () => undefined,
    signal: (sig) => run.signal(term.pid, sig),
    onStdout: (cb) => stdoutCbs.push(cb),
    onStderr: () => undefined, // a PTY merges stderr into the terminal stream
    onExit: (cb) =>
      term.onExit(({ exitCode, signal }) => {
        cb(run.exit({ exitCode: signal ? null : exitCode, signal: signal ? signalName(signal) : null }));
      }),
  };
}

/**
 * node-pty closes its end of the terminal 200 ms after the agent exits, or on a
 * read that reports end-of-file, whether or not the agent's last output has been
 * read: a worker busy (or starved of CPU) for that long loses the tail of the
 * output, which for Codex is its final answer. So before the terminal's stream is
 * destroyed, whatever the kernel still holds is read synchronously and delivered.
 * Uses node-pty internals (the stream and the master fd); without them nothing changes.
 */
function drainBeforeClose(term: IPty, deliver: (text: string) => void): void {
  const internals = term as unknown as { _socket?: { destroy: (...args: unknown[]) => unknown }; _fd?: number };
  const socket = internals._socket;
  const fd = internals._fd;
  if (!socket || typeof socket.destroy !== 'function' || typeof fd !== 'number') return;
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (...args: unknown[]) => {
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: nothing left; EIO: the terminal is closed and empty
      }
      if (n <= 0) break;
      deliver(decoder.write(buf.subarray(0, n)));
    }
    const rest = decoder.end();
    if (rest) deliver(rest);
    return destroy(...args);
  };
}

function signalName(num: number): string {
  const names = Object.entries(os.constants.signals as Record<string, number>);
  return names.find(([, n]) => n === num)?.[0] ?? String(num);
}
