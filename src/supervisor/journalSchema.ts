/**
 * The journal's schema, as the forward migrations that build it: a journal at any older
 * version is brought up to date when it is opened (journal.ts). Append only: a shipped
 * migration never changes, and test/unit/journalMigrations.test.ts keeps every older schema.
 */

/** Forward migrations; index i upgrades user_version i → i+1. */
export const MIGRATIONS: string[] = [
  `CREATE TABLE sessions (
     id                     TEXT PRIMARY KEY,
     agent                  TEXT NOT NULL,
     cwd                    TEXT NOT NULL,
     task                   TEXT NOT NULL,
     model                  TEXT,
     mode                   TEXT NOT NULL DEFAULT 'full',
     status                 TEXT NOT NULL,
     worker_pid             INTEGER,
     worker_start_time      TEXT,
     agent_pid              INTEGER,
     agent_start_time       TEXT,
     socket_path            TEXT NOT NULL,
     session_dir            TEXT NOT NULL,
     secret                 TEXT NOT NULL,
     created_at             TEXT NOT NULL,
     last_activity_at       TEXT NOT NULL,
     last_output_at         TEXT,
     ended_at               TEXT,
     exit_code              INTEGER,
     signal                 TEXT,
     end_reason             TEXT,
     completed_successfully INTEGER,
     agent_session_id       TEXT,
     error_summary          TEXT,
     output_lines           INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX sessions_status ON sessions(status);
   CREATE TABLE events (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     at         TEXT NOT NULL,
     session_id TEXT,
     kind       TEXT NOT NULL,
     detail     TEXT
   );
   CREATE INDEX events_session ON events(session_id, id);`,
  // 2: the git tree recorded at session start, for session_diff.
  `ALTER TABLE sessions ADD COLUMN git_base_tree TEXT;`,
  // 3: the protocol the worker spoke to the agent (issue 14); null for sessions from before.
  `ALTER TABLE sessions ADD COLUMN protocol TEXT;`,
  // 4: permission requests of mode ask (issue 15), journalled before any client is told (approvalStore.ts).
  `CREATE TABLE approvals (
     session_id  TEXT NOT NULL,
     approval_id TEXT NOT NULL,
     kind        TEXT NOT NULL,
     summary     TEXT NOT NULL,
     request     TEXT NOT NULL,
     decisions   TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     decided_at  TEXT,
     decision    TEXT,
     message     TEXT,
     decided_by  TEXT,
     state       TEXT NOT NULL,
     PRIMARY KEY (session_id, approval_id)
   );
   CREATE INDEX approvals_state ON approvals(state, session_id);`,
  // 5: usage across the session's workers (issue 14) and its budget (issue 18); null: none reported / no limits.
  `ALTER TABLE sessions ADD COLUMN input_tokens INTEGER;
   ALTER TABLE sessions ADD COLUMN cached_input_tokens INTEGER;
   ALTER TABLE sessions ADD COLUMN output_tokens INTEGER;
   ALTER TABLE sessions ADD COLUMN cost_usd REAL;
   ALTER TABLE sessions ADD COLUMN turns INTEGER;
   ALTER TABLE sessions ADD COLUMN run_ms INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN limits TEXT;`,
  // 6: how the agent was confined (issue 16): bwrap | none; null for sessions from before (unconfined).
  `ALTER TABLE sessions ADD COLUMN sandbox TEXT;`,
  // 7: git worktrees made for sessions (issue 18). Their own table: the worktree outlives the
  // session's row (retention forgets rows; the work on the branch is the user's).
  `CREATE TABLE worktrees (
     session_id  TEXT PRIMARY KEY,
     repo        TEXT NOT NULL,
     branch      TEXT NOT NULL,
     base_commit TEXT NOT NULL,
     path        TEXT NOT NULL,
     git_dir     TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     removed_at  TEXT
   );`,
  // 8: notifications not yet delivered to NOTIFY_URL (issue 18): a restart retries them.
  `CREATE TABLE notifications (
     id          INTEGER PRIMARY KEY AUTOINCREMENT,
     dedupe_key  TEXT UNIQUE,
     session_id  TEXT,
     event       TEXT NOT NULL,
     payload     TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     attempts    INTEGER NOT NULL DEFAULT 0,
     next_at     TEXT NOT NULL,
     last_error  TEXT,
     done_at     TEXT,
     outcome     TEXT
   );
   CREATE INDEX notifications_pending ON notifications(done_at, next_at);`,
];
