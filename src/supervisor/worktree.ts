/**
 * A git worktree per session (issue 18 item 1): a new branch from the user's
 * current HEAD, checked out in a directory agentvisor owns (WORKTREE_DIR), so
 * several agents can work on one repository without overwriting each other and
 * the user's own checkout is never touched. The worktree and its branch are the
 * user's work: they outlive the session and restarts until session_cleanup.
 *
 * Every git call goes through gitDiff.ts's `git` (hooks, fsmonitor, filter
 * drivers, external diff, pager and submodule recursion off: the repository's
 * config is agent-writable) with argv arrays; the branch name a client chose is
 * checked by git itself (check-ref-format) before any other git call sees it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { git } from './gitDiff';
import { isInside } from './fs/pathGuard';

export const WorktreeTimeouts = {
  /** Checking out a large repository writes every file: far longer than a rev-parse may take. */
  addMs: 120_000,
  /** Removing one is a recursive delete of the same files. */
  removeMs: 120_000,
} as const;

/** Branches agentvisor names itself: `agentvisor/<first 8 hex digits of the session id>`. */
export const BRANCH_PREFIX = 'agentvisor/';

export interface WorktreeRecord {
  /** The user's repository (its top-level directory) the worktree was added to. */
  repo: string;
  branch: string;
  /** The commit the branch started at: session_diff compares against it. */
  baseCommit: string;
  /** The worktree's directory, under WORKTREE_DIR. */
  path: string;
  /** The repository's common git directory (absolute): where a commit in the worktree writes. */
  gitDir: string;
}

export type Created = { ok: true; record: WorktreeRecord; agentCwd: string } | { ok: false; error: string };

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

/** Is `name` a branch name git accepts (and not one an argv could mistake for an option)? Returns why not, or null. */
export async function branchNameProblem(name: string, cwd: string): Promise<string | null> {
  if (name.startsWith('-')) return `worktree branch "${name}" must not start with "-"`;
  // The full ref form: `--branch` would also expand `@{-1}` and friends, which a new branch must not be.
  const checked = await git(['check-ref-format', `refs/heads/${name}`], cwd);
  return checked.ok ? null : `worktree branch "${name}" is not a valid git branch name (see git check-ref-format)`;
}

/**
 * Adds a worktree of the repository `cwd` lies in, on a new branch from its HEAD,
 * at `root/<repo name>-<short id>`. The agent's cwd inside it is the same
 * subdirectory `cwd` is of the repository.
 */
export async function createWorktree(cwd: string, sessionId: string, requestedBranch: string | null, root: string, workspaceDir: string): Promise<Created> {
  const top = await git(['rev-parse', '--show-toplevel'], cwd);
  if (!top.ok) {
    if (/\bENOENT\b/.test(top.err)) return { ok: false, error: 'worktree: git is not installed (not found on the PATH agentvisor runs with); install git, or start without worktree' };
    return { ok: false, error: `worktree: cwd ${cwd} is not inside a git repository (run git init and commit first, or start without worktree)` };
  }
  const repo = top.out.trim();
  const common = await git(['rev-parse', '--git-common-dir'], repo);
  if (!common.ok) return { ok: false, error: `worktree: could not find the git directory of ${repo}: ${firstLine(common.err)}` };
  const gitDir = path.resolve(repo, common.out.trim());
  const outside = outsideWorkspace([repo, gitDir], workspaceDir);
  if (outside)
    return {
      ok: false,
      error: `worktree: the repository of cwd ${cwd} (${outside}) is outside WORKSPACE_DIR ${workspaceDir}; agentvisor only adds worktrees and branches to repositories inside it (git init one there)`,
    };
  const head = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], repo);
  if (!head.ok) return { ok: false, error: `worktree: the repository ${repo} has no commit yet; commit once so the session's branch has somewhere to start` };
  const branch = requestedBranch ?? BRANCH_PREFIX + sessionId.slice(0, 8);
  const bad = await branchNameProblem(branch, repo);
  if (bad) return { ok: false, error: bad };
  if ((await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], repo)).ok) {
    return { ok: false, error: `worktree: branch "${branch}" already exists in ${repo}; name another, or omit it for agentvisor/<id>` };
  }
  const absRoot = path.resolve(root);
  let realRoot: string;
  try {
    fs.mkdirSync(absRoot, { recursive: true, mode: 0o700 });
    realRoot = fs.realpathSync.native(absRoot);
  } catch (err) {
    return { ok: false, error: `worktree: could not create WORKTREE_DIR ${absRoot}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  // Never inside the user's tree: the agent's files would show up as untracked changes there.
  if (isInside(absRoot, repo) || isInside(realRoot, repo)) {
    return { ok: false, error: `worktree: WORKTREE_DIR ${absRoot} is inside the repository ${repo}; set WORKTREE_DIR outside it` };
  }
  const dir = path.join(
    absRoot,
    `${path
      .basename(repo)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 60)}-${sessionId.slice(0, 8)}`,
  );
  const baseCommit = head.out.trim();
  const added = await git(['worktree', 'add', '-b', branch, dir, baseCommit], repo, {}, WorktreeTimeouts.addMs);
  if (!added.ok) return { ok: false, error: `worktree: git worktree add failed: ${firstLine(added.err)}` };
  const rel = path.relative(repo, cwd);
  // The subdirectory may be untracked (or empty) and so not checked out: the launcher's cwd check
  // (cwdPin.ts) creates it, after the worktree is recorded, so a failure there loses nothing.
  const agentCwd = rel && isInside(cwd, repo) ? path.join(dir, rel) : dir;
  return { ok: true, record: { repo, branch, baseCommit, path: dir, gitDir }, agentCwd };
}

/**
 * The first of `paths` (resolved through symbolic links) not inside WORKSPACE_DIR, or null.
 * git finds a repository by walking up from the cwd, so a cwd in the workspace can lie in a
 * repository above it, which no client was given and which must get no branch or checkout.
 */
function outsideWorkspace(paths: string[], workspaceDir: string): string | null {
  let ws: string;
  try {
    ws = fs.realpathSync.native(workspaceDir);
  } catch {
    return workspaceDir;
  }
  for (const p of paths) {
    let real: string;
    try {
      real = fs.realpathSync.native(p);
    } catch {
      return p;
    }
    if (!isInside(real, ws)) return p;
  }
  return null;
}

/** Files with uncommitted changes in the worktree (`git status --porcelain` lines), or an error. */
export async function uncommitted(dir: string): Promise<{ ok: true; lines: string[] } | { ok: false; error: string }> {
  const st = await git(['status', '--porcelain', '--untracked-files=all'], dir);
  if (!st.ok) return { ok: false, error: `git status failed in ${dir}: ${firstLine(st.err)}` };
  return { ok: true, lines: st.out.split('\n').filter(Boolean) };
}

/** What is left of a recorded worktree: its directory, its branch. */
export async function inspect(w: WorktreeRecord): Promise<{ dirExists: boolean; branchExists: boolean; repoExists: boolean }> {
  const repoExists = fs.existsSync(w.repo);
  const dirExists = fs.existsSync(w.path);
  const branchExists = repoExists && (await git(['rev-parse', '--verify', '--quiet', `refs/heads/${w.branch}`], w.repo)).ok;
  return { dirExists, branchExists, repoExists };
}

export interface Removal {
  worktreeRemoved: boolean;
  branchDeleted: boolean;
  notes: string[];
}

/**
 * Removes the worktree (and, if asked, its branch). The caller has already
 * refused uncommitted changes unless `force`. A directory already gone is
 * pruned from git's list instead.
 */
export async function removeWorktree(w: WorktreeRecord, opts: { deleteBranch: boolean; force: boolean }): Promise<Removal | { error: string }> {
  if (!fs.existsSync(w.repo)) return { error: `the repository ${w.repo} no longer exists; remove ${w.path} by hand` };
  const notes: string[] = [];
  if (fs.existsSync(w.path)) {
    const rm = await git(['worktree', 'remove', ...(opts.force ? ['--force', '--force'] : []), w.path], w.repo, {}, WorktreeTimeouts.removeMs);
    if (!rm.ok) return { error: `git worktree remove failed: ${firstLine(rm.err)}` };
  } else {
    await git(['worktree', 'prune'], w.repo);
    notes.push(`the directory ${w.path} was already gone; git's record of it was pruned`);
  }
  let branchDeleted = false;
  if (opts.deleteBranch) {
    // -d keeps a branch with commits HEAD does not have: the agent's work is not thrown away unless forced.
    const del = await git(['branch', opts.force ? '-D' : '-d', '--', w.branch], w.repo);
    branchDeleted = del.ok;
    if (!del.ok) notes.push(`branch ${w.branch} kept: ${firstLine(del.err)} (force: true deletes it anyway)`);
  }
  return { worktreeRemoved: true, branchDeleted, notes };
}
