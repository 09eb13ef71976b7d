/**
 * What an agent changed: at session start the supervisor records a git tree of
 * the working directory as it was (tracked and untracked files, .gitignore
 * honoured) without touching the user's index, working tree or refs — a
 * temporary index file is used — and session_diff diffs that tree against a
 * fresh one. Nothing the repository's own config names (hooks, fsmonitor,
 * filters, textconv...) may run a program in the supervisor: see `git`.
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

/**
 * Config pinned for every call, whatever the repository's own config says (it is agent input: a
 * confined agent can write .git/config). Each entry is something git would otherwise run here:
 * hooks (post-checkout on worktree add, reference-transaction on branch writes), fsmonitor, an
 * external diff, a pager, and submodule recursion (git would then run in a submodule whose config
 * names filters of its own). Filter drivers are per name: see `filterOverrides`.
 */
const SAFE: ReadonlyArray<readonly [string, string]> = [
  ['core.fsmonitor', 'false'],
  ['core.hooksPath', '/dev/null'],
  ['diff.external', ''],
  ['core.pager', 'cat'],
  ['submodule.recurse', 'false'],
  ['diff.ignoreSubmodules', 'dirty'],
];

type Exec = { ok: boolean; out: string; err: string };

/** Keys and values go through GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n, not `-c k=v`: a filter name may contain "=". */
function configEnv(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        timeout: timeoutMs,
        maxBuffer: MAX_DIFF_BYTES,
        // GIT_ALLOW_PROTOCOL with no real protocol: no transport at all, so a lazy fetch in a
        // "partial clone" the agent configured (remote URL ext::<command>) cannot run anything.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: 'none' },
      },
      (err, stdout, stderr) => resolve({ ok: !err, out: stdout, err: stderr || (err?.message ?? '') }),
    );
  });
}

/**
 * Every filter driver the repository at `cwd` configures, switched off: git runs `clean` on add
 * and status, `smudge` on checkout, `process` on any of them, and .gitattributes (also agent
 * input) chooses the files. An empty command is "no filter" to git, and required=false lets the
 * file through unfiltered. Reading config runs nothing.
 */
async function filterOverrides(cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Array<[string, string]>> {
  const listed = await run(['config', '-z', '--name-only', '--get-regexp', '^filter\\.'], cwd, { ...env, ...configEnv(SAFE) }, timeoutMs);
  const names = new Set<string>();
  // `filter.<name>.<key>`: the name is everything between the first and the last dot.
  for (const key of listed.out.split('\0')) {
    const m = /^filter\.([\s\S]*)\.[^.]*$/.exec(key);
    if (m) names.add(m[1]);
  }
  return [...names].flatMap((n): Array<[string, string]> => [
    [`filter.${n}.clean`, ''],
    [`filter.${n}.smudge`, ''],
    [`filter.${n}.process`, ''],
    [`filter.${n}.required`, 'false'],
  ]);
}

/**
 * git with nothing of the repository's config able to run a program in the supervisor: hooks,
 * fsmonitor, external diff, pager, submodule recursion and every filter driver off. Diffs must
 * also pass --no-textconv and --no-ext-diff (`DIFF_SAFE`).
 */
export async function git(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs: number = GitTimeouts.commandMs): Promise<Exec> {
  const filters = await filterOverrides(cwd, env, timeoutMs);
  return run(args, cwd, { ...env, ...configEnv([...SAFE, ...filters]) }, timeoutMs);
}

/** Options every `git diff` here passes: no textconv (diff.<driver>.textconv runs a program), no external diff, short submodule lines. */
export const DIFF_SAFE = ['--no-color', '--no-ext-diff', '--no-textconv', '--submodule=short'];

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
    git(['diff', ...DIFF_SAFE, '--name-status', baseTree, now.tree, '--', rel], now.root),
    git(['diff', ...DIFF_SAFE, baseTree, now.tree, '--', rel], now.root),
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
