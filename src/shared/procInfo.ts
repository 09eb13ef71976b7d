/**
 * Process identity that survives pid reuse: a pid plus the kernel's record of
 * when that process started. A journal row naming pid 4242 must not adopt an
 * unrelated process that got 4242 after a reboot or a long uptime.
 */
import fs from 'node:fs';

/** Start time of `pid` in clock ticks since boot (Linux /proc), or null if it is not running or unknowable. */
export function processStartTime(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are positional.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); starttime is field 22.
    if (rest[0] === 'Z') return null; // a zombie is dead for our purposes
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HAS_PROC = fs.existsSync('/proc/self/stat');

/**
 * True if `pid` is running and is the process recorded with `startTime`. Without
 * /proc (not Linux) nothing better than liveness can be checked, and start times
 * are recorded as null there.
 */
export function isSameProcess(pid: number | null, startTime: string | null): boolean {
  if (pid === null || !isAlive(pid)) return false;
  if (!HAS_PROC) return true;
  // Nothing recorded to compare with: never adopt (or kill) a process on a pid alone.
  if (startTime === null) return false;
  return processStartTime(pid) === startTime;
}

/** SIGKILLs a process group if its leader is still the recorded process. */
export function killGroupIfSame(pid: number | null, startTime: string | null, sig: NodeJS.Signals = 'SIGKILL'): boolean {
  if (pid === null || !isSameProcess(pid, startTime)) return false;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      return false; // gone between the check and the signal
    }
  }
  return true;
}
