/**
 * `agentvisor worktrees`: the git worktrees sessions were started in (session_start with
 * worktree) that have not been removed, from the journal (read-only, server up or not), each
 * flagged when it is an orphan: its directory or branch gone, its session forgotten by
 * retention, or a directory under WORKTREE_DIR the journal has no record of (a start that
 * crashed half-way).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type WorktreeRow, listWorktrees, toRecord } from '../supervisor/worktreeStore';
import { inspect } from '../supervisor/worktree';
import { operatorConfig, out, parseCommand } from './common';
import { ago, printJson, table } from './format';
import { openJournal } from './journalView';

export const USAGE = `usage: agentvisor worktrees [--json]

Lists the git worktrees agentvisor made for sessions (WORKTREE_DIR) and not yet removed
with session_cleanup, with the session, branch, base commit and repository of each.
ORPHAN says what is wrong with one: "dir gone", "branch gone", "repo gone", "session pruned"
(the session was forgotten; its worktree and branch remain), or "not in journal" (a directory
under WORKTREE_DIR no session recorded).

options:
  --json   an array of objects instead of a table
`;

interface WorktreeView {
  sessionId: string | null;
  branch: string | null;
  baseCommit: string | null;
  repo: string | null;
  /** The repository's git directory, which a commit in the worktree writes to. */
  gitDir: string | null;
  path: string;
  createdAt: string | null;
  orphan: string[];
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const config = operatorConfig();
  const journal = openJournal(config.STATE_DIR);
  let rows: Array<WorktreeRow & { session_known: number }>;
  try {
    // A journal from before worktrees (user_version < 4) has no table: no worktrees.
    const hasTable = journal.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'worktrees'").get();
    rows = hasTable ? listWorktrees(journal) : [];
  } finally {
    journal.close();
  }
  const views: WorktreeView[] = [];
  for (const r of rows) {
    const seen = await inspect(toRecord(r));
    const orphan = [
      ...(seen.repoExists ? [] : ['repo gone']),
      ...(seen.dirExists ? [] : ['dir gone']),
      ...(seen.branchExists || !seen.repoExists ? [] : ['branch gone']),
      ...(r.session_known ? [] : ['session pruned']),
    ];
    views.push({ sessionId: r.session_id, branch: r.branch, baseCommit: r.base_commit, repo: r.repo, gitDir: r.git_dir, path: r.path, createdAt: r.created_at, orphan });
  }
  const known = new Set(rows.map((r) => path.resolve(r.path)));
  for (const name of safeReaddir(config.WORKTREE_DIR)) {
    const p = path.join(config.WORKTREE_DIR, name);
    if (!known.has(p)) views.push({ sessionId: null, branch: null, baseCommit: null, repo: null, gitDir: null, path: p, createdAt: null, orphan: ['not in journal'] });
  }
  if (args.values.json) return printJson(views);
  if (views.length === 0) {
    out('no worktrees\n');
    return;
  }
  const now = Date.now();
  out(
    table(
      ['SESSION', 'BRANCH', 'BASE', 'CREATED', 'ORPHAN', 'REPO', 'PATH'],
      views.map((v) => [v.sessionId?.slice(0, 8) ?? '-', v.branch ?? '-', v.baseCommit?.slice(0, 10) ?? '-', ago(v.createdAt, now), v.orphan.join(', ') || '-', v.repo ?? '-', v.path]),
    ),
  );
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return []; // no worktree made yet: the directory does not exist
  }
}
