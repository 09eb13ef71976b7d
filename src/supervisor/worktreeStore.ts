/**
 * The journal's record of the sessions' worktrees (table `worktrees`, migration
 * 4). Kept apart from the sessions table: retention forgets ended sessions, but
 * a worktree stays until session_cleanup removes it, and `agentvisor worktrees`
 * still lists (as orphans) the ones whose session was forgotten.
 */
import type { Journal } from './journal';
import type { WorktreeRecord } from './worktree';

export interface WorktreeRow {
  session_id: string;
  repo: string;
  branch: string;
  base_commit: string;
  path: string;
  /** The repository's common git directory (objects, refs, worktrees/<name>): a confined agent must write there to commit. */
  git_dir: string;
  created_at: string;
  removed_at: string | null;
}

export const toRecord = (r: WorktreeRow): WorktreeRecord => ({ repo: r.repo, branch: r.branch, baseCommit: r.base_commit, path: r.path, gitDir: r.git_dir });

export function insertWorktree(journal: Journal, sessionId: string, w: WorktreeRecord): void {
  journal.db
    .prepare('INSERT INTO worktrees (session_id, repo, branch, base_commit, path, git_dir, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(sessionId, w.repo, w.branch, w.baseCommit, w.path, w.gitDir, new Date().toISOString());
}

export function worktreeOf(journal: Journal, sessionId: string): WorktreeRow | undefined {
  return journal.db.prepare('SELECT * FROM worktrees WHERE session_id = ?').get(sessionId) as WorktreeRow | undefined;
}

export function markWorktreeRemoved(journal: Journal, sessionId: string, detail: Record<string, unknown>): void {
  journal.tx(() => {
    journal.db.prepare('UPDATE worktrees SET removed_at = ? WHERE session_id = ?').run(new Date().toISOString(), sessionId);
    journal.event(sessionId, 'worktree_removed', detail);
  });
}

/** Every worktree not removed, with whether its session is still in the journal. */
export function listWorktrees(journal: Journal): Array<WorktreeRow & { session_known: number }> {
  return journal.db
    .prepare(
      `SELECT w.*, EXISTS (SELECT 1 FROM sessions s WHERE s.id = w.session_id) AS session_known
       FROM worktrees w WHERE w.removed_at IS NULL ORDER BY w.created_at`,
    )
    .all() as Array<WorktreeRow & { session_known: number }>;
}
