/**
 * The SQLite journal: what sessions exist, where their workers are, and an
 * append-only history of what happened to them. Written before any reply that
 * reports a state change, so a client is never told something the journal
 * does not know. Plain column names and ISO-8601 text timestamps so an operator
 * can read it with the sqlite3 shell.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { AgentKind, AgentMode, SessionStatus, WorkerState } from '../shared/protocol';
import { ACTIVE_STATUSES_SQL } from '../shared/sessionStatus';
import { MIGRATIONS } from './journalSchema';

const JournalTimeouts = {
  /** Waiting for a lock this long beats failing: another agentvisor command may be reading. */
  busyMs: 5_000,
} as const;

export interface SessionRow {
  id: string;
  agent: AgentKind;
  cwd: string;
  task: string;
  model: string | null;
  mode: AgentMode;
  /** claude | codex-app-server | codex-exec (null: journalled before it was recorded). */
  protocol: string | null;
  /** bwrap | none (null: journalled before it was recorded, so unconfined). */
  sandbox: string | null;
  status: SessionStatus;
  worker_pid: number | null;
  worker_start_time: string | null;
  agent_pid: number | null;
  agent_start_time: string | null;
  socket_path: string;
  session_dir: string;
  secret: string;
  created_at: string;
  last_activity_at: string;
  last_output_at: string | null;
  ended_at: string | null;
  exit_code: number | null;
  signal: string | null;
  end_reason: string | null;
  completed_successfully: number | null;
  agent_session_id: string | null;
  error_summary: string | null;
  output_lines: number;
  git_base_tree: string | null;
  /** The session's usage so far, across its workers (null until the agent reports any); see usageOf. */
  input_tokens: number | null;
  cached_input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  turns: number | null;
  run_ms: number;
  /** The session's SessionLimits as JSON; null: none. */
  limits: string | null;
}

export interface EventRow {
  id: number;
  at: string;
  session_id: string | null;
  kind: string;
  detail: string | null;
}

/** Where a session_list page ended: the sort key of its last row. */
export interface ListPosition {
  rank: 0 | 1;
  at: string;
  id: string;
}

export type ListedRow = SessionRow & { list_rank: 0 | 1; list_at: string };

export type NewSession = Pick<SessionRow, 'id' | 'agent' | 'cwd' | 'task' | 'model' | 'mode' | 'socket_path' | 'session_dir' | 'secret'> & {
  protocol?: string | null;
  limits?: string | null;
  sandbox?: string | null;
};

const now = () => new Date().toISOString();

export class Journal {
  readonly db: Database.Database;

  constructor(file: string, opts: { readonly?: boolean; exclusive?: boolean } = {}) {
    this.db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    try {
      this.db.pragma(`busy_timeout = ${JournalTimeouts.busyMs}`);
      if (!opts.readonly) {
        // Exclusive: the WAL index lives in memory, not in a -shm file a full disk cannot hold (journalFile.ts).
        if (opts.exclusive) this.db.pragma('locking_mode = EXCLUSIVE');
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = FULL');
        this.migrate();
        // It holds every session's worker secret: owner only, whatever the umask (-wal/-shm too).
        for (const f of [file, `${file}-wal`, `${file}-shm`]) {
          if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
        }
      }
    } catch (err) {
      // A journal that cannot be set up must not stay open: it would hold its lock against the next attempt.
      this.db.close();
      throw err;
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`journal schema version ${version} is newer than this agentvisor understands (${MIGRATIONS.length}); upgrade agentvisor`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db
        .transaction(() => {
          this.db.exec(MIGRATIONS[v]);
          this.db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }

  private readonly statements = new Map<string, Database.Statement>();

  /**
   * Prepared once per SQL text: preparing costs several times what running does, on every read.
   * The journal's other tables' stores (approvalStore, notifyStore) use it too.
   */
  stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Runs `fn` in one IMMEDIATE transaction: the write lock is taken up front, so no deadlock upgrade. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  event(sessionId: string | null, kind: string, detail?: Record<string, unknown>): void {
    this.stmt('INSERT INTO events (at, session_id, kind, detail) VALUES (?, ?, ?, ?)').run(now(), sessionId, kind, detail ? JSON.stringify(detail) : null);
  }

  insertSession(s: NewSession): void {
    this.tx(() => {
      const at = now();
      this.stmt(
        `INSERT INTO sessions (id, agent, cwd, task, model, mode, protocol, limits, sandbox, status, socket_path, session_dir, secret, created_at, last_activity_at)
           VALUES (@id, @agent, @cwd, @task, @model, @mode, @protocol, @limits, @sandbox, 'running', @socket_path, @session_dir, @secret, @at, @at)`,
      ).run({ protocol: null, limits: null, sandbox: null, ...s, at });
      this.event(s.id, 'created', { agent: s.agent, cwd: s.cwd });
    });
  }

  /** Copies a worker's view of its session into the row, plus an event when something a client cares about changed. */
  applyWorkerState(state: WorkerState, eventKind?: string, detail?: Record<string, unknown>): void {
    this.tx(() => {
      const lastActivity = [state.lastOutputAt, state.lastInputAt].filter(Boolean).sort().pop() ?? null;
      this.stmt(
        `UPDATE sessions SET status = @status, worker_pid = @workerPid, worker_start_time = @workerStartTime,
             agent_pid = @agentPid, agent_start_time = @agentStartTime, last_output_at = @lastOutputAt,
             last_activity_at = COALESCE(@lastActivity, last_activity_at), ended_at = @endedAt, exit_code = @exitCode,
             signal = @signal, end_reason = @endReason, completed_successfully = @completed,
             agent_session_id = COALESCE(@agentSessionId, agent_session_id), error_summary = @errorSummary,
             output_lines = @nextOffset,
             input_tokens = COALESCE(@inputTokens, input_tokens), cached_input_tokens = COALESCE(@cachedInputTokens, cached_input_tokens),
             output_tokens = COALESCE(@outputTokens, output_tokens), cost_usd = COALESCE(@costUsd, cost_usd),
             turns = COALESCE(@turns, turns), run_ms = MAX(run_ms, @runMs)
           WHERE id = @sessionId`,
      ).run({
        ...state,
        // A worker that reports none (an older one, or no report yet) keeps what the row has: a
        // continued session's totals carry the previous workers' (spec.spent).
        inputTokens: state.usage?.inputTokens ?? null,
        cachedInputTokens: state.usage?.cachedInputTokens ?? null,
        outputTokens: state.usage?.outputTokens ?? null,
        costUsd: state.usage?.costUsd ?? null,
        turns: state.usage?.turns ?? null,
        runMs: state.runMs ?? 0,
        lastActivity,
        completed: state.completedSuccessfully === null ? null : state.completedSuccessfully ? 1 : 0,
      });
      if (eventKind) this.event(state.sessionId, eventKind, detail);
    });
  }

  setGitBase(id: string, tree: string): void {
    this.stmt('UPDATE sessions SET git_base_tree = ? WHERE id = ?').run(tree, id);
  }

  /** New limits for a session about to be continued (session_send's `limits`). */
  setLimits(id: string, limits: string | null): void {
    this.stmt('UPDATE sessions SET limits = ? WHERE id = ?').run(limits, id);
  }

  /** A session whose worker never came up. */
  markFailed(id: string, error: string): void {
    this.tx(() => {
      this.stmt("UPDATE sessions SET status = 'failed', end_reason = 'spawn_failed', ended_at = ?, error_summary = ?, completed_successfully = 0 WHERE id = ?").run(now(), error, id);
      this.event(id, 'failed', { error });
    });
  }

  /** An ended session continuing its conversation: back to running, its last outcome cleared. */
  markResumed(id: string, detail: Record<string, unknown>): void {
    this.tx(() => {
      this.stmt(
        `UPDATE sessions SET status = 'running', ended_at = NULL, exit_code = NULL, signal = NULL, end_reason = NULL,
           completed_successfully = NULL, error_summary = NULL, last_activity_at = ? WHERE id = ?`,
      ).run(now(), id);
      this.event(id, 'resumed', detail);
    });
  }

  /** Marks a session whose worker died without recording an outcome. */
  markLost(id: string, reason: string): void {
    this.tx(() => {
      this.stmt(
        `UPDATE sessions SET status = 'lost', end_reason = 'worker_lost', ended_at = ?, completed_successfully = 0,
             error_summary = COALESCE(error_summary, ?) WHERE id = ?`,
      ).run(now(), reason, id);
      this.event(id, 'worker_lost', { reason });
    });
  }

  setStatus(id: string, status: SessionStatus, eventKind: string, detail?: Record<string, unknown>): void {
    this.tx(() => {
      this.stmt('UPDATE sessions SET status = ? WHERE id = ?').run(status, id);
      this.event(id, eventKind, detail);
    });
  }

  get(id: string): SessionRow | undefined {
    return this.stmt('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
  }

  all(): SessionRow[] {
    return this.stmt('SELECT * FROM sessions ORDER BY created_at').all() as SessionRow[];
  }

  /** Sessions the journal believes have a live worker. */
  live(): SessionRow[] {
    return this.stmt(`SELECT * FROM sessions WHERE status IN ${ACTIVE_STATUSES_SQL}`).all() as SessionRow[];
  }

  events(sessionId: string): EventRow[] {
    return this.stmt('SELECT * FROM events WHERE session_id = ? ORDER BY id').all(sessionId) as EventRow[];
  }

  /** The newest input (or resume) a session took under a client's idempotency key (#12 item 4). */
  inputByKey(sessionId: string, key: string): { kind: string; detail: string } | undefined {
    return this.stmt(
      `SELECT kind, detail FROM events WHERE session_id = ? AND kind IN ('input', 'resumed')
         AND json_valid(detail) AND json_extract(detail, '$.idempotencyKey') = ? ORDER BY id DESC LIMIT 1`,
    ).get(sessionId, key) as { kind: string; detail: string } | undefined;
  }

  /** Ended sessions beyond the newest `keep`, oldest first: their output may be deleted. */
  endedBeyond(keep: number): SessionRow[] {
    return this.stmt(
      `SELECT * FROM sessions WHERE status NOT IN ${ACTIVE_STATUSES_SQL}
         ORDER BY COALESCE(ended_at, created_at) DESC LIMIT -1 OFFSET ?`,
    ).all(keep) as SessionRow[];
  }

  /**
   * One page of session_list: running sessions first, newest first, then ended ones,
   * most recently ended first; `after` is the last row of the previous page. One
   * more row than `limit` is returned when there is more.
   */
  listPage(q: { statuses: readonly SessionStatus[]; awaiting?: boolean | null; agent: AgentKind | null; after: ListPosition | null; limit: number }): ListedRow[] {
    return this.stmt(
      `SELECT * FROM (
           SELECT *, CASE WHEN status IN ${ACTIVE_STATUSES_SQL} THEN 0 ELSE 1 END AS list_rank,
             CASE WHEN status IN ${ACTIVE_STATUSES_SQL} THEN created_at ELSE COALESCE(ended_at, created_at) END AS list_at
           FROM sessions WHERE status IN (SELECT value FROM json_each(@statuses)) AND (@agent IS NULL OR agent = @agent)
             AND (@awaiting IS NULL OR @awaiting = EXISTS (SELECT 1 FROM approvals a WHERE a.session_id = sessions.id AND a.state = 'pending')))
         WHERE @rank IS NULL OR list_rank > @rank OR (list_rank = @rank AND (list_at < @at OR (list_at = @at AND id < @id)))
         ORDER BY list_rank, list_at DESC, id DESC LIMIT @limit`,
    ).all({
      statuses: JSON.stringify(q.statuses),
      awaiting: q.awaiting === undefined || q.awaiting === null ? null : q.awaiting ? 1 : 0,
      agent: q.agent,
      rank: q.after?.rank ?? null,
      at: q.after?.at ?? null,
      id: q.after?.id ?? null,
      limit: q.limit + 1,
    }) as ListedRow[];
  }

  /** Sessions kept, by status: what a client is not shown on a page, and /health's summary. */
  countByStatus(): Partial<Record<SessionStatus, number>> {
    const rows = this.stmt('SELECT status, COUNT(*) AS n FROM sessions GROUP BY status').all() as Array<{ status: SessionStatus; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Running sessions with a pending approval: shown as awaiting_approval, not running (shared/sessionStatus.ts). */
  countAwaitingApproval(): number {
    return (this.stmt(`SELECT COUNT(DISTINCT a.session_id) AS n FROM approvals a JOIN sessions s ON s.id = a.session_id WHERE a.state = 'pending' AND s.status = 'running'`).get() as { n: number }).n;
  }

  /** Forgets ended sessions, their rows and their events, in one transaction; a running one is never touched. */
  forgetEnded(ids: readonly string[]): number {
    if (ids.length === 0) return 0;
    return this.tx(() => {
      const list = JSON.stringify(ids);
      const gone = this.stmt(`DELETE FROM sessions WHERE id IN (SELECT value FROM json_each(?)) AND status NOT IN ${ACTIVE_STATUSES_SQL} RETURNING id`).all(list) as Array<{ id: string }>;
      const goneIds = JSON.stringify(gone.map((r) => r.id));
      this.stmt('DELETE FROM events WHERE session_id IN (SELECT value FROM json_each(?))').run(goneIds);
      this.stmt('DELETE FROM approvals WHERE session_id IN (SELECT value FROM json_each(?))').run(goneIds);
      return gone.length;
    });
  }

  /** Keeps the newest `keep` events of no session (supervisor starts and stops); returns how many went. */
  forgetSupervisorEventsBeyond(keep: number): number {
    return this.stmt('DELETE FROM events WHERE session_id IS NULL AND id <= (SELECT id FROM events WHERE session_id IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?)').run(keep).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
