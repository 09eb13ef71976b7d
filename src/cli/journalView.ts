/**
 * Sessions as the journal records them, read-only, whether or not the server is
 * running (SQLite WAL lets a reader in beside the server's writer). While the
 * server is down nobody journals a session that ends, so a row still marked
 * running is checked against its worker: the final record it wrote when the
 * agent ended, or the worker process being gone (what the next server start
 * will call `lost`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { isSameProcess } from '../shared/procInfo';
import type { SessionLimits, Usage, WorkerState } from '../shared/protocol';
import { readFinalState } from '../supervisor/finalState';
import { type EventRow, Journal, type SessionRow } from '../supervisor/journal';
import { limitsOf, usageOf } from '../supervisor/sessionBudget';
import { CliError } from './common';
import type { LiveInfo } from './server';

export const JOURNAL_FILE = 'journal.db';

export function openJournal(stateDir: string): Journal {
  const file = path.join(stateDir, JOURNAL_FILE);
  if (!fs.existsSync(file)) {
    throw new CliError(`no journal at ${file}: the server has not run with this STATE_DIR yet (set STATE_DIR to the server's)`);
  }
  try {
    return new Journal(file, { readonly: true });
  } catch (err) {
    throw new CliError(`could not open the journal ${file}: ${(err as Error).message} (agentvisor doctor checks it)`);
  }
}

export const isEnded = (status: string) => status !== 'running' && status !== 'killing';

/** The one session whose id starts with `prefix` (ids are UUIDs; any unique prefix will do). */
export function findSession(journal: Journal, prefix: string): SessionRow {
  const p = prefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{1,36}$/.test(p)) throw new CliError(`"${prefix}" is not a session id (ids look like 3f2a9c1d-…; see agentvisor sessions --all)`);
  const rows = journal.db.prepare('SELECT * FROM sessions WHERE substr(id, 1, ?) = ? ORDER BY created_at LIMIT 6').all(p.length, p) as SessionRow[];
  if (rows.length === 0) throw new CliError(`no session with an id starting "${prefix}" (see agentvisor sessions --all)`);
  if (rows.length > 1 && rows[0].id !== p) {
    throw new CliError(
      `"${prefix}" matches ${rows.length > 5 ? 'more than 5' : rows.length} sessions (${rows
        .slice(0, 5)
        .map((r) => r.id.slice(0, 13))
        .join(', ')}); give more of the id`,
    );
  }
  return rows[0];
}

/** A session as the CLI shows it: never the worker's secret, nor its socket. */
export interface SessionView {
  sessionId: string;
  agent: string;
  status: string;
  /** Where `status` comes from: the server, the journal, or (server down) the worker's final record or its absence. */
  statusFrom: 'server' | 'journal' | 'final record' | 'worker gone';
  mode: string;
  /** How the agent was confined: bwrap | none. */
  sandbox: string;
  model: string | null;
  cwd: string;
  startedAt: string;
  lastOutputAt: string | null;
  lastActivityAt: string;
  endedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  endReason: string | null;
  completedSuccessfully: boolean | null;
  outputLines: number;
  agentPid: number | null;
  workerPid: number | null;
  agentSessionId: string | null;
  errorSummary: string | null;
  /** Tokens, cost and turns across the session's continuations; null until the agent reports any. */
  usage: Usage | null;
  /** Wall time the agent has run, across continuations. */
  runMs: number;
  limits: SessionLimits | null;
}

/** The worker's final record, if it wrote a valid one (the contract's WorkerState; anything else counts as none). */
function readFinal(row: SessionRow): WorkerState | null {
  const final = readFinalState(row.session_dir);
  return final?.ok ? final.state : null;
}

export function sessionView(row: SessionRow, serverUp: boolean): SessionView {
  const view: SessionView = {
    sessionId: row.id,
    agent: row.agent,
    status: row.status,
    statusFrom: 'journal',
    mode: row.mode,
    sandbox: row.sandbox === 'bwrap' ? 'bwrap' : 'none',
    model: row.model,
    cwd: row.cwd,
    startedAt: row.created_at,
    lastOutputAt: row.last_output_at,
    lastActivityAt: row.last_activity_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    signal: row.signal,
    endReason: row.end_reason,
    completedSuccessfully: row.completed_successfully === null ? null : row.completed_successfully === 1,
    outputLines: row.output_lines,
    agentPid: row.agent_pid,
    workerPid: row.worker_pid,
    agentSessionId: row.agent_session_id,
    errorSummary: row.error_summary,
    usage: usageOf(row),
    runMs: row.run_ms ?? 0,
    limits: limitsOf(row),
  };
  if (serverUp || isEnded(row.status)) return view;
  const final = readFinal(row);
  if (final && isEnded(final.status)) {
    return {
      ...view,
      status: final.status,
      statusFrom: 'final record',
      endedAt: final.endedAt ?? view.endedAt,
      exitCode: final.exitCode ?? view.exitCode,
      signal: final.signal ?? view.signal,
      endReason: final.endReason ?? view.endReason,
      completedSuccessfully: final.completedSuccessfully ?? view.completedSuccessfully,
      outputLines: Math.max(view.outputLines, final.nextOffset ?? 0),
      lastOutputAt: final.lastOutputAt ?? view.lastOutputAt,
      errorSummary: final.errorSummary ?? view.errorSummary,
      usage: final.usage ?? view.usage,
      runMs: Math.max(view.runMs, final.runMs ?? 0),
    };
  }
  if (!isSameProcess(row.worker_pid, row.worker_start_time)) {
    return { ...view, status: 'lost', statusFrom: 'worker gone', endReason: view.endReason ?? 'worker_lost' };
  }
  return view;
}

/** True while the session may still produce output (its worker lives and has not recorded an end). */
export function stillRunning(journal: Journal, id: string, serverUp: boolean): boolean {
  const row = journal.get(id);
  return row !== undefined && !isEnded(sessionView(row, serverUp).status);
}

export function events(journal: Journal, id: string): EventRow[] {
  return journal.events(id);
}

/** "exited 0", "killed SIGTERM", "-" while running: the EXIT column. */
export function exitText(v: SessionView): string {
  if (!isEnded(v.status)) return '-';
  if (v.exitCode !== null) return String(v.exitCode);
  if (v.signal) return v.signal;
  return '-';
}

/** The running server's view of a session over the journal's (fresher output counters, same statuses). */
export function withLive(view: SessionView, live: LiveInfo | undefined): SessionView {
  if (!live) return view;
  return {
    ...view,
    status: live.status,
    statusFrom: 'server',
    agentPid: live.pid ?? view.agentPid,
    endedAt: live.endedAt,
    lastOutputAt: live.lastOutputAt,
    outputLines: Math.max(view.outputLines, live.outputLines),
    exitCode: live.exitCode,
    signal: live.signal,
    endReason: live.endReason,
    completedSuccessfully: live.completedSuccessfully,
    usage: live.usage ?? view.usage,
    runMs: Math.max(view.runMs, live.runMs ?? 0),
  };
}
