/**
 * Security: descriptors the supervisor inherited from whatever started it (a
 * shell, pm2, a CI runner) reach the worker through its launcher and, unless
 * closed, every agent it spawns: execve closes only descriptors marked
 * close-on-exec, and Node marks the ones it opens itself — never inherited ones.
 * So an inherited descriptor is exactly one without O_CLOEXEC. The worker
 * closes every such descriptor above `keepUpTo` (its stdio and the ready pipe)
 * before it opens anything, and its agents start with stdio and their PTY only.
 */
import fs from 'node:fs';

const O_CLOEXEC = 0o2000000;

/** Closes inherited descriptors above `keepUpTo`; returns how many. Linux only (/proc); elsewhere a no-op. */
export function closeInheritedFds(keepUpTo: number): number {
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch {
    return 0;
  }
  let closed = 0;
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= keepUpTo) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags && (parseInt(flags[1], 8) & O_CLOEXEC) === 0) {
        fs.closeSync(fd);
        closed++;
      }
    } catch {
      // Gone already (the directory listing's own descriptor).
    }
  }
  return closed;
}
