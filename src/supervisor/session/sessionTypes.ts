/**
 * What the parts of the session core share (launching, live workers, recovery,
 * output): the types they pass each other and the rule for where a session's
 * status is read. No part imports another or the facade; each is handed what it
 * needs when it is built (sessionManager.ts wires them).
 *
 * WHERE A SESSION'S STATUS IS READ — the rule, written once:
 * the journal row is the record; the live-worker map is a cache of what each
 * connected worker last said. A status change is journalled before anyone is told
 * of it (waiters, lifecycle events), so the journal is never behind what a client
 * has seen. Hence: status, outcome and "has it ended?" come from the journal
 * (`sessionEnded`); memory is trusted only for what the worker streams faster than
 * it is journalled (output offsets, last output time, pids, the final answer),
 * and to answer "not ended" without a query while its worker reports running —
 * the hot path of every waiter on every output event.
 */
import type { z } from 'zod';
import type { Logger } from 'winston';
import type { AgentKind, AgentMode, SessionStatus, WorkerState } from '../../shared/protocol';
import { isEnded, publicStatus } from '../../shared/sessionStatus';
import type { ApprovalInfo } from '../approvalStore';
import type { Journal, SessionRow } from '../journal';
import type { JournalGuard } from '../journalGuard';
import { type LimitsArg, limitsOf, usageOf } from '../sessionBudget';
import type { OutputPageSchema, SessionInfoSchema } from '../tools/schemas';
import type { WorkerClient } from '../workerClient';
import type { LaunchOptions, WorkerReady } from '../workerLauncher';
import type { Waiters } from './waiters';
import type { RecentLines } from './recentLines';

export { isEnded };
export type { SendReply } from '../inputDelivery';

export type SessionInfo = z.infer<typeof SessionInfoSchema>;
export type OutputPage = z.infer<typeof OutputPageSchema>;
export type WaitPage = OutputPage & { timedOut: boolean };

export interface StartRequest {
  agent: AgentKind;
  /** Absolute, already checked to be inside WORKSPACE_DIR. */
  cwd: string;
  task: string;
  model?: string | null;
  mode?: AgentMode;
  env?: Record<string, string>;
  /** Budget limits named by the client; the others are the server's defaults (issue 18). */
  limits?: LimitsArg;
  /** Developer instructions for the agent (bounded by the tool's schema). */
  instructions?: string | null;
  /** Mode ask: requests these rules answer `allow` without asking (spec.approvals). */
  approve?: { allowTools?: string[]; allowCommandPrefixes?: string[] };
  /** Directories inside WORKSPACE_DIR (absolute, checked like cwd) a confined agent may also read, or read and write. */
  readOnlyPaths?: string[];
  writablePaths?: string[];
  /** Run in a new git worktree of cwd's repository: true names the branch agentvisor/<id>, a string names it. */
  worktree?: boolean | string;
}

/** One connected (or reconnecting) worker, as the supervisor holds it. */
export interface LiveWorker {
  client: WorkerClient | undefined;
  /** What the worker last said: a cache of the journal row plus the fields it streams. */
  state: WorkerState;
  waiters: Waiters;
  reconnecting: boolean;
  /** When the worker stopped answering the heartbeat (ISO time); null while it answers. */
  unresponsiveSince: string | null;
  /** The newest lines, from the output events: reads answered without asking the worker. */
  recent: RecentLines;
}

export interface ManagerEvents {
  /** New output or a state change in a session (drives waits and resource notifications). */
  changed: [sessionId: string];
  /** A session started, ended, was lost or continued (drives client log notifications). */
  lifecycle: [sessionId: string, status: SessionStatus, detail: Record<string, unknown>];
  /** Mode ask: a permission request became pending or was resolved, already journalled (drives log notifications, elicitation). */
  approval: [sessionId: string, detail: { event: 'approval_pending' | 'approval_resolved'; approvalId: string } & Record<string, unknown>];
}

/** Crosses a process boundary: injected so the core can be run against an in-process worker. */
export type Launch = (opts: LaunchOptions) => Promise<WorkerReady>;
export type Connect = (socketPath: string, secret: string, timeoutMs: number) => Promise<{ client: WorkerClient; state: WorkerState }>;
export type Emit = <E extends keyof ManagerEvents>(event: E, ...args: ManagerEvents[E]) => void;

/** What every part is built with. */
export interface CoreBase {
  journal: Journal;
  journalGuard: JournalGuard;
  log: Logger;
}

/** "Has it ended?", by the rule above. */
export function sessionEnded(journal: Journal, live: LiveWorker | undefined, id: string): boolean {
  if (live && !isEnded(live.state.status)) return false;
  return isEnded(journal.get(id)?.status ?? 'lost');
}

/** What a client is shown of a pending approval (the journal's record, less its outcome fields). */
export function pendingView(a: ApprovalInfo): { approvalId: string; kind: string; summary: string; request: unknown; decisions: string[]; createdAt: string } {
  return { approvalId: a.approvalId, kind: a.kind, summary: a.summary, request: a.request, decisions: a.decisions, createdAt: a.createdAt };
}

/** `pending`: the session's pending approvals from the journal (what makes it awaiting_approval). */
export function toInfo(row: SessionRow, live: LiveWorker | undefined, pending: readonly ApprovalInfo[] = []): SessionInfo {
  const s = live?.state;
  const lastOutputAt = s?.lastOutputAt ?? row.last_output_at;
  // With no output yet, count from the row's last activity: the start, or for a session continued
  // by session_send the resume (its new worker reports no output of its own yet), not from when
  // the session was first created hours ago.
  const since = Date.parse(lastOutputAt ?? row.last_activity_at ?? row.created_at);
  const endedAt = s?.endedAt ?? row.ended_at;
  return {
    sessionId: row.id,
    agent: row.agent,
    protocol: row.protocol,
    sandbox: row.sandbox === 'bwrap' ? 'bwrap' : 'none',
    cwd: row.cwd,
    status: publicStatus(row.status, pending.length),
    pid: s?.agentPid ?? row.agent_pid,
    startedAt: row.created_at,
    endedAt,
    lastOutputAt,
    silentForMs: Math.max(0, (endedAt ? Date.parse(endedAt) : Date.now()) - since),
    outputLines: Math.max(s?.nextOffset ?? 0, row.output_lines),
    exitCode: row.exit_code,
    signal: row.signal,
    endReason: row.end_reason,
    completedSuccessfully: row.completed_successfully === null ? null : row.completed_successfully === 1,
    agentSessionId: row.agent_session_id,
    errorSummary: row.error_summary,
    // The worker's view is the fresher (it is journalled, but a full disk may hold the write back).
    usage: s?.usage ?? usageOf(row),
    runMs: Math.max(s?.runMs ?? 0, row.run_ms ?? 0),
    limits: limitsOf(row),
    ...(live?.unresponsiveSince ? { workerUnresponsive: true } : {}),
    ...(pending.length > 0 ? { pendingApprovals: pending.map(pendingView) } : {}),
  };
}
