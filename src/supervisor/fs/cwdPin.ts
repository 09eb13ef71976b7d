/**
 * The last check of a session's cwd before anything is started in it (#12 items 9 and 10).
 *
 * resolveCwd (pathGuard) decided, by path, that the cwd lies inside WORKSPACE_DIR; the path
 * can be swapped for a symlink right after. So the directory is created, then opened without
 * following a final symlink, and the *opened* directory is checked: the kernel's name for it
 * must be the resolved path (no component was swapped) and lie inside the workspace. Its
 * device + inode are what the session records: the worker starts agents only in that
 * directory, and the file tools accept the cwd as a root only while its path still leads
 * there.
 *
 * Nor may it lie in agentvisor's own state (`forbidden`: STATE_DIR): bound into a sandbox it would
 * come back out from under the cover that hides the token, the journal and every session's spec,
 * and the file tools would serve them. Checked by path before anything is created, and again on
 * the opened directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type DirIdentity, openDirNoFollow, openedPath } from '../../shared/dirHandle';
import { describeFsError, isInside } from './pathGuard';

export type PinnedCwd = { ok: true; identity: DirIdentity } | { ok: false; error: string };

/**
 * Creates `cwd` (an absolute path resolveCwd returned) if missing and records which directory it is.
 * `forbidden`: a directory the cwd must be neither equal to nor inside (null: none).
 */
export function prepareCwd(cwd: string, workspaceDir: string, forbidden: string | null): PinnedCwd {
  const off = forbidden === null ? null : realOr(forbidden);
  if (off !== null && isInside(cwd, off)) return { ok: false, error: forbiddenError(cwd, forbidden ?? off) };
  try {
    fs.mkdirSync(cwd, { recursive: true });
  } catch (err) {
    return { ok: false, error: `could not create cwd ${cwd}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  let workspace: string;
  try {
    workspace = fs.realpathSync.native(path.resolve(workspaceDir));
  } catch {
    return { ok: false, error: `WORKSPACE_DIR "${workspaceDir}" does not exist or is unreadable. Create it first.` };
  }
  const opened = openDirNoFollow(cwd, null);
  if (!opened.ok) {
    if (['ELOOP', 'ENOTDIR', 'ENOENT', 'EXDEV'].includes(opened.code)) return { ok: false, error: swappedError(cwd) };
    return { ok: false, error: `cwd ${describeFsError(opened.code, opened.message, cwd)}` };
  }
  try {
    // Where /proc is missing, realpath is the best remaining question (it cannot see a swap after it).
    let actual = openedPath(opened.fd);
    if (actual === null) {
      try {
        actual = fs.realpathSync.native(cwd);
      } catch {
        return { ok: false, error: swappedError(cwd) };
      }
    }
    if (actual !== cwd || !isInside(actual, workspace)) return { ok: false, error: swappedError(cwd) };
    if (off !== null && isInside(actual, off)) return { ok: false, error: forbiddenError(cwd, forbidden ?? off) };
    return { ok: true, identity: opened.identity };
  } finally {
    fs.closeSync(opened.fd);
  }
}

function realOr(p: string): string {
  try {
    return fs.realpathSync.native(path.resolve(p));
  } catch {
    return path.resolve(p);
  }
}

function forbiddenError(cwd: string, stateDir: string): string {
  return `cwd ${cwd} is agentvisor's own state directory or inside it (STATE_DIR ${stateDir}: its token, journal and sessions); refusing. Use a directory outside STATE_DIR.`;
}

function swappedError(cwd: string): string {
  return `cwd ${cwd} changed while it was being checked (replaced by a symbolic link or moved); refusing to start there. Check the directory and try again.`;
}
