/**
 * "Check once, then hold the handle" for directories. Node has no openat/fchdir, so a
 * directory held open as fd N is reached through Linux's /proc/self/fd/N: that link names
 * the opened directory itself, not a path, so renaming or swapping anything on the original
 * path afterwards cannot redirect what is reached through it (openat semantics by path).
 *
 * Identity is device + inode as decimal strings (bigint stats: inode numbers on some file
 * systems exceed 2^53, and the value crosses process boundaries as JSON).
 *
 * Without /proc (not Linux) fd paths are unavailable; callers then fall back to the path
 * itself plus the identity check, which narrows the race but cannot close it.
 */
import fs from 'node:fs';

export const HAS_FD_PATHS = fs.existsSync('/proc/self/fd');

/**
 * How a worker that refuses its session's cwd says why on stderr before it exits; the
 * launcher passes only a line with this prefix on to the client (it names the cwd, never a
 * secret), so other stderr text stays in the file.
 */
export const CWD_REFUSED_PREFIX = 'agentvisor worker refused the cwd: ';

// O_NOFOLLOW refuses a symlink swapped in for the last component; O_DIRECTORY anything but a
// directory; O_NONBLOCK keeps a FIFO swapped in at that moment from blocking the open.
const DIR_OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_DIRECTORY ?? 0) | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

export interface DirIdentity {
  dev: string;
  ino: string;
}

export type OpenedDir = { ok: true; fd: number; identity: DirIdentity } | { ok: false; code: string; message: string };

export function identityOf(st: fs.BigIntStats): DirIdentity {
  return { dev: st.dev.toString(), ino: st.ino.toString() };
}

export function sameIdentity(a: DirIdentity, b: DirIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** lstat identity of `p` (never follows a final symlink), or null when it is not a directory. */
export function dirIdentityNoFollow(p: string): DirIdentity | null {
  try {
    const st = fs.lstatSync(p, { bigint: true });
    return st.isDirectory() ? identityOf(st) : null;
  } catch {
    return null;
  }
}

/** The path that reaches `name` inside the directory held open as `fd` (the directory itself without a name). */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** What the kernel says `fd` refers to now (Linux), or null where that cannot be asked. */
export function openedPath(fd: number): string | null {
  if (!HAS_FD_PATHS) return null;
  try {
    return fs.readlinkSync(fdPath(fd));
  } catch {
    return null;
  }
}

/**
 * Opens the directory at `p` without following a final symlink and, when `expected` is
 * given, checks that the opened directory is that one (device + inode). The caller owns the
 * fd on success. Failures are values: ELOOP/ENOTDIR mean something else now sits at `p`,
 * EXDEV (our own code) that a different directory does.
 */
export function openDirNoFollow(p: string, expected: DirIdentity | null): OpenedDir {
  let fd: number;
  try {
    fd = fs.openSync(p, DIR_OPEN_FLAGS);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: typeof e?.code === 'string' ? e.code : 'EUNKNOWN', message: String(e?.message ?? err).split('\n')[0] ?? '' };
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const identity = identityOf(st);
    if (!st.isDirectory() || (expected && !sameIdentity(identity, expected))) {
      fs.closeSync(fd);
      return { ok: false, code: 'EXDEV', message: 'a different directory now sits at this path (it was swapped or replaced)' };
    }
    return { ok: true, fd, identity };
  } catch (err) {
    fs.closeSync(fd);
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: typeof e?.code === 'string' ? e.code : 'EUNKNOWN', message: String(e?.message ?? err).split('\n')[0] ?? '' };
  }
}
