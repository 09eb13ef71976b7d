/**
 * list_directory's walk, which descends by directory handle rather than by path (#12 item 11).
 *
 * A path-based walk lists `sub`, sees a directory, and later opens `<root>/sub` by name: if
 * `sub` (or any directory above it) was swapped for a symlink to /etc in between, the walk
 * lists /etc. Here the listed root stays open for the whole walk, and every subdirectory is
 * opened *inside its opened parent* (/proc/self/fd/N/name, see shared/dirHandle), with
 * O_NOFOLLOW, and only if the opened directory is the inode the listing saw (device + inode
 * from the entry's lstat). A swap therefore costs that entry an error and never yields
 * another tree. Entries are lstat'ed through the same handle, so a symlink is reported as
 * itself and never followed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DirIdentity, HAS_FD_PATHS, fdPath, identityOf, openDirNoFollow, openedPath } from '../../shared/dirHandle';
import { type FsError, errnoMessage, fail, intArg, kindOf } from './fsTaskHelpers';
import { type AllowedRoot, resolveInsideRootsSync } from './pathGuard';

/** Listing bound: enough for any sane project level, small enough to stay a modest result. */
export const MAX_LIST_ENTRIES = 5000;
/** Recursive listings descend this many levels (entries of the listed directory are level 1). */
export const MAX_LIST_DEPTH = 3;
/** Entries fetched from the kernel per opendir batch; keeps a 100k-entry directory from being read whole. */
const DIR_BUFFER_ENTRIES = 64;

export interface ListDirectoryArgs {
  path: string;
  /** Walk subdirectories down to MAX_LIST_DEPTH levels, breadth first. */
  recursive?: boolean;
  /** Lower the entry bound (default and cap MAX_LIST_ENTRIES). */
  maxEntries?: number;
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface DirEntry {
  /** Path relative to the listed directory, "/"-separated (a bare name when not recursive). */
  name: string;
  type: EntryType;
  /** Size in bytes, for files only. */
  size?: number;
  /** The symlink's own text (readlink); the link is never followed. */
  target?: string;
  /** Set when a subdirectory could not be read during a recursive walk. */
  error?: string;
}

export interface ListDirectoryOk {
  ok: true;
  op: 'list_directory';
  /** The realpath that was listed. */
  path: string;
  entries: DirEntry[];
  /** True when the walk stopped at maxEntries with entries left unlisted. */
  truncated: boolean;
  maxEntries: number;
  /** Levels walked: 1, or MAX_LIST_DEPTH when recursive. */
  maxDepth: number;
}

export type ListDirectoryResult = ListDirectoryOk | FsError;

interface PendingDir {
  /** Its name inside the parent (empty for the listed directory). */
  name: string;
  rel: string;
  depth: number;
  /** What the listing saw at this name; the opened directory must be this one. */
  identity: DirIdentity;
  parent: PendingDir | null;
  entry: DirEntry | null; // the entry that names this directory, to attach a read error to
}

type Opened = { ok: true; fd: number } | { ok: false; error: string };

export function listDirectory(args: ListDirectoryArgs, roots: AllowedRoot[]): ListDirectoryResult {
  const maxEntries = intArg(args.maxEntries, 'maxEntries', MAX_LIST_ENTRIES, 1, MAX_LIST_ENTRIES);
  if (typeof maxEntries !== 'number') return maxEntries;
  if (args.recursive !== undefined && typeof args.recursive !== 'boolean') return fail('recursive must be true or false.');
  const maxDepth = args.recursive ? MAX_LIST_DEPTH : 1;

  const guard = resolveInsideRootsSync(args.path, roots);
  if (!guard.ok) return guard;
  const realPath = guard.realPath;
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(realPath, { bigint: true });
  } catch (err) {
    return fail(errnoMessage(err, args.path));
  }
  if (st.isFile()) return fail(`"${args.path}" is a file, not a directory; use read_file to read it.`);
  if (!st.isDirectory()) return fail(`"${args.path}" is ${kindOf(st)}, not a directory.`);

  const root: PendingDir = { name: '', rel: '', depth: 1, identity: identityOf(st), parent: null, entry: null };
  const opened = openDirNoFollow(realPath, root.identity);
  if (!opened.ok) return fail(changedMessage(opened.code, opened.message, args.path));
  try {
    // The guard checked realPath's components; one swapped since then shows up here.
    const actual = openedPath(opened.fd);
    if (actual !== null && actual !== realPath) return fail(`"${args.path}" was moved while being opened; refusing it. Try again.`);
    return walk(opened.fd, root, realPath, maxEntries, maxDepth, args.path);
  } finally {
    fs.closeSync(opened.fd);
  }
}

function walk(rootFd: number, root: PendingDir, realPath: string, maxEntries: number, maxDepth: number, shownRoot: string): ListDirectoryResult {
  const entries: DirEntry[] = [];
  let truncated = false;
  // Breadth first, so a truncated listing shows the shallow levels completely.
  const queue: PendingDir[] = [root];
  for (let q = 0; q < queue.length && !truncated; q++) {
    const dir = queue[q]!;
    const opened: Opened = dir.parent === null ? { ok: true, fd: rootFd } : openPending(rootFd, dir, realPath);
    if (!opened.ok) {
      dir.entry!.error = opened.error;
      continue;
    }
    // Without /proc the path is all there is (identity-checked above, but not race-free).
    const base = HAS_FD_PATHS ? fdPath(opened.fd) : path.join(realPath, dir.rel);
    const batch: DirEntry[] = [];
    const identities = new Map<DirEntry, DirIdentity>();
    try {
      const handle = fs.opendirSync(base, { bufferSize: DIR_BUFFER_ENTRIES });
      try {
        for (;;) {
          const dirent = handle.readSync();
          if (dirent === null) break;
          if (entries.length + batch.length >= maxEntries) {
            // One more entry exists beyond the bound: stop the whole walk here.
            truncated = true;
            break;
          }
          const described = describeEntry(base, dirent.name, dir.rel);
          if (!described) continue;
          batch.push(described.entry);
          if (described.identity) identities.set(described.entry, described.identity);
        }
      } finally {
        handle.closeSync();
      }
    } catch (err) {
      if (dir.entry === null) return fail(errnoMessage(err, shownRoot));
      dir.entry.error = errnoMessage(err, dir.rel);
    } finally {
      if (opened.fd !== rootFd) fs.closeSync(opened.fd);
    }
    // Sorting only what was read keeps output stable without reading a huge directory whole.
    batch.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of batch) {
      entries.push(entry);
      const identity = identities.get(entry);
      if (entry.type === 'directory' && identity && dir.depth < maxDepth) {
        queue.push({ name: path.posix.basename(entry.name), rel: entry.name, depth: dir.depth + 1, identity, parent: dir, entry });
      }
    }
  }
  return { ok: true, op: 'list_directory', path: realPath, entries, truncated, maxEntries, maxDepth };
}

/**
 * Opens a queued directory by walking down from the held root, each step inside the step
 * before and checked against what the listing saw; only depth-many fds are open at once.
 */
function openPending(rootFd: number, dir: PendingDir, realPath: string): Opened {
  if (!HAS_FD_PATHS) {
    const direct = openDirNoFollow(path.join(realPath, dir.rel), dir.identity);
    return direct.ok ? { ok: true, fd: direct.fd } : { ok: false, error: changedMessage(direct.code, direct.message, dir.rel) };
  }
  const parent: Opened = dir.parent!.parent === null ? { ok: true, fd: rootFd } : openPending(rootFd, dir.parent!, realPath);
  if (!parent.ok) return parent;
  try {
    const child = openDirNoFollow(fdPath(parent.fd, dir.name), dir.identity);
    return child.ok ? { ok: true, fd: child.fd } : { ok: false, error: changedMessage(child.code, child.message, dir.rel) };
  } finally {
    if (parent.fd !== rootFd) fs.closeSync(parent.fd);
  }
}

function changedMessage(code: string, message: string, shown: string): string {
  if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'EXDEV') {
    return `"${shown}" was replaced while being listed (by a symbolic link or another file); it was not followed.`;
  }
  if (code === 'ENOENT') return `"${shown}" was removed or renamed while being listed.`;
  return errnoMessage({ code, message }, shown);
}

/** lstat through the held directory, never stat: a symlink is reported as itself and never followed. */
function describeEntry(base: string, name: string, rel: string): { entry: DirEntry; identity?: DirIdentity } | null {
  const shown = rel ? `${rel}/${name}` : name;
  const abs = path.join(base, name);
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(abs, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return null; // deleted while we listed
    return { entry: { name: shown, type: 'other', error: errnoMessage(err, shown) } };
  }
  if (st.isFile()) return { entry: { name: shown, type: 'file', size: Number(st.size) } };
  if (st.isDirectory()) return { entry: { name: shown, type: 'directory' }, identity: identityOf(st) };
  if (st.isSymbolicLink()) {
    try {
      return { entry: { name: shown, type: 'symlink', target: fs.readlinkSync(abs) } };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e?.code === 'ENOENT') return null; // deleted while we listed, like a failed lstat
      // EINVAL: no longer a symlink by the time it was read.
      const code = e?.code === 'EINVAL' ? 'EXDEV' : String(e?.code ?? 'EUNKNOWN');
      return { entry: { name: shown, type: 'symlink', error: changedMessage(code, String(e?.message ?? err), shown) } };
    }
  }
  return { entry: { name: shown, type: 'other' } };
}
