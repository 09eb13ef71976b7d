/**
 * What an agent changed: at session start the supervisor records a git tree of
 * the working directory as it was (tracked and untracked files, .gitignore
 * honoured) without touching the user's index, working tree or refs — a
 * temporary index file is used — and session_diff diffs that tree against a
 * fresh one. Hooks and fsmonitor are disabled: a repository's own config must
 * not run programs in the supervisor.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const GitTimeouts = {
  /** git on a large repository can be slow, but a snapshot that hangs must not hold a session start. */
  commandMs: 10_000,
} as const;
/** Largest diff kept in memory for paging; past it the diff says it is cut. */
const MAX_DIFF_BYTES = 32 * 1024 * 1024;

const SAFE = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'diff.external=', '-c', 'core.pager=cat'];

/** git with hooks, fsmonitor and external diff/pager off: a repository's config must not run programs here. */
export function git(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs: number = GitTimeouts.commandMs): Promise<{ ok: boolean; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      [...SAFE, ...args],
      { cwd, timeout: timeoutMs, maxBuffer: MAX_DIFF_BYTES, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' } },
      (err, stdout, stderr) => resolve({ ok: !err, out: stdout, err: stderr || (err?.message ?? '') }),
    );
  });
}

export type Snapshot = { ok: true; root: string; tree: string } | { ok: false; reason: string };

/** A tree object of `cwd`'s repository as it is now, or why there is none. */
export async function snapshotTree(cwd: string, timeoutMs = GitTimeouts.commandMs): Promise<Snapshot> {
  const top = await git(['rev-parse', '--show-toplevel'], cwd, {}, timeoutMs);
  if (!top.ok) return { ok: false, reason: 'not a git repository' };
  const root = top.out.trim();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-idx-'));
  const index = path.join(tmp, 'index');
  try {
    // An empty index, so every file is hashed from its content. A copy of the real
    // index would trust its stat cache, and a same-size edit within the same second
    // as the last index write would be missed.
    const env = { GIT_INDEX_FILE: index };
    const add = await git(['add', '-A', '--', '.'], root, env, timeoutMs);
    if (!add.ok) return { ok: false, reason: `git add failed: ${add.err.trim().split('\n')[0]}` };
    const tree = await git(['write-tree'], root, env, timeoutMs);
    if (!tree.ok) return { ok: false, reason: `git write-tree failed: ${tree.err.trim().split('\n')[0]}` };
    return { ok: true, root, tree: tree.out.trim() };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface DiffResult {
  ok: boolean;
  error?: string;
  files: Array<{ status: string; path: string }>;
  lines: string[];
}

/** The diff of `cwd` (relative to its repository) between `baseTree` and now. */
export async function diffSince(cwd: string, baseTree: string): Promise<DiffResult> {
  const now = await snapshotTree(cwd);
  if (!now.ok) return { ok: false, error: now.reason, files: [], lines: [] };
  const rel = path.relative(now.root, cwd) || '.';
  const [names, patch] = await Promise.all([
    git(['diff', '--no-color', '--no-ext-diff', '--name-status', baseTree, now.tree, '--', rel], now.root),
    git(['diff', '--no-color', '--no-ext-diff', baseTree, now.tree, '--', rel], now.root),
  ]);
  if (!patch.ok) return { ok: false, error: `git diff failed: ${patch.err.trim().split('\n')[0]}`, files: [], lines: [] };
  const files = names.out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [status, ...rest] = l.split('\t');
      return { status, path: rest.join('\t') };
    });
  const lines = patch.out.length ? patch.out.replace(/\n$/, '').split('\n') : [];
  return { ok: true, files, lines };
}
