/**
 * The agent's whole process tree, not only its process group. Both real CLIs run tool commands
 * outside the agent's group: Claude Code 2.1 starts each Bash command in a session of its own
 * (setsid), Codex 0.169 its shell commands in their own session and its code-mode host in its own
 * group. Claude exits on SIGTERM at once without ending a running command, so a kill that signals
 * the agent's group alone leaves that command (a `sleep 600`, a test run, a server) orphaned to
 * init for good. Linux /proc only; elsewhere the tree is empty and the group signal is all there is.
 */
import fs from 'node:fs';

/** A process, identified across pid reuse by its start time (clock ticks since boot). */
export interface ProcRef {
  pid: number;
  startTime: string;
}

interface ProcStat extends ProcRef {
  ppid: number;
  pgid: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after it are positional.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return null; // a zombie is dead already
    return { pid, ppid: Number(rest[1]), pgid: Number(rest[2]), startTime: rest[19] };
  } catch {
    return null; // exited while we looked, or not ours to read
  }
}

/** Every live descendant of `root` (not `root` itself), whatever its process group or session. */
export function descendantsOf(root: number): ProcRef[] {
  if (!Number.isInteger(root) || root <= 0) return [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, ProcStat[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (!s) continue;
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const out: ProcRef[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push({ pid: c.pid, startTime: c.startTime });
      queue.push(c.pid);
    }
  }
  return out;
}

/** Signals each process that is still the one recorded (a reused pid is left alone). */
export function signalProcs(procs: ProcRef[], sig: NodeJS.Signals): void {
  for (const p of procs) {
    if (p.pid === process.pid || readStat(p.pid)?.startTime !== p.startTime) continue;
    try {
      process.kill(p.pid, sig);
    } catch {
      // gone between the check and the signal
    }
  }
}

/** The process `pid` now, or null if it is gone (or a zombie). */
export function procRef(pid: number): ProcRef | null {
  const s = readStat(pid);
  return s ? { pid: s.pid, startTime: s.startTime } : null;
}

/** Whether `p` is still the process it was (not exited, its pid not reused). */
export function isSame(p: ProcRef): boolean {
  return readStat(p.pid)?.startTime === p.startTime;
}

/**
 * Direct children of `pid`, from each of its threads' `children` file: a walk of one tree
 * instead of a read of every process on the host. null when the kernel lacks the file
 * (CONFIG_PROC_CHILDREN), so the caller falls back to a full scan.
 */
export function childrenOf(pid: number): number[] | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone
  }
  const out: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(`/proc/${pid}/task/${tid}`)) return null;
      continue; // the thread ended while we looked
    }
    for (const c of text.split(' ')) if (c.trim()) out.push(Number(c));
  }
  return out;
}

/**
 * Every process but this one whose environment holds `entry` (`NAME=value`) as it was given at
 * exec. A process inherits it from whoever started it, so it marks an agent's descendants
 * wherever they have moved in the process tree since (a daemon, a setsid'd command whose parent
 * has exited), the way build servers find a build's stray processes.
 */
export function markedWith(entry: string): ProcRef[] {
  const out: ProcRef[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue; // exited, or not ours to read
    }
    if (!('\0' + environ).includes('\0' + entry + '\0')) continue;
    const ref = procRef(Number(name));
    if (ref) out.push(ref);
  }
  return out;
}

/** The live pids of process group `pgid` (Linux /proc; empty elsewhere). */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e) && readStat(Number(e))?.pgid === pgid).map(Number);
}
