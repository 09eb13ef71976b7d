/**
 * The session core's facade, what the tools call. It owns no logic of its own
 * beyond the order of steps; each job is a part in session/, built here and
 * handed what it needs (none imports another or this file):
 *   launching.ts    checks, the worker spec, the resume spec; starting the worker
 *   liveWorkers.ts  one connection per live worker, reconnect, heartbeat
 *   recovery.ts     re-attach at start-up, ending the record of a dead worker
 *   sessionOutput.ts reads, waits, the ended sessions' output
 *   approvals.ts    mode ask's permission requests: journalled, listed, answered
 *   sessionTypes.ts what they share, and where a session's status is read
 * Launching a worker and connecting to one cross a process boundary and are
 * injected (`io`), so the core runs in-process against a fake worker in tests.
 */
import type { SandboxDecision } from './sandbox/probe';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'winston';
import { WorkerTimeouts } from '../shared/constants';
import type { ApprovalDecision, EndReason, SessionStatus } from '../shared/protocol';
import type { ApprovalInfo } from './approvalStore';
import type { AgentCatalog } from './agentCapabilities';
import type { Config } from './config';
import { type DiffResult, diffSince } from './gitDiff';
import { agentTextProblem } from './agentInput';
import { SessionRoots } from './fs/sessionRoots';
import { deliverInput, priorDelivery } from './inputDelivery';
import type { Journal, SessionRow } from './journal';
import { JournalGuard } from './journalGuard';
import { forgetEndedBeyond } from './retention';
import type { LimitsArg } from './sessionBudget';
import { SessionError } from './sessionError';
import { type ListQuery, listSessions } from './sessionListing';
import { SessionCoreTimeouts } from './session/coreTimeouts';
import { type ApproveReply, SessionApprovals } from './session/approvals';
import { SessionLauncher } from './session/launching';
import { LiveWorkers, type LiveWorkersDeps } from './session/liveWorkers';
import { reattachAll, reconcileDead } from './session/recovery';
import { SessionOutput } from './session/sessionOutput';
import {
  type Connect,
  type Launch,
  type ManagerEvents,
  type OutputPage,
  type SendReply,
  type SessionInfo,
  type StartRequest,
  type WaitPage,
  isEnded,
  pendingView,
  toInfo,
} from './session/sessionTypes';
import { WorkerClient, WorkerRequestError } from './workerClient';
import { launchWorker } from './workerLauncher';
import { type Removal, inspect, removeWorktree, uncommitted } from './worktree';
import { type WorktreeRow, markWorktreeRemoved, toRecord, worktreeOf } from './worktreeStore';

export { SessionError };
export type { ApprovalInfo, ApproveReply, ManagerEvents, OutputPage, SendReply, SessionInfo, StartRequest };

/** What crosses a process boundary, and the core's timing; tests replace them. */
export interface SessionCoreIo {
  launch?: Launch;
  connect?: Connect;
  timeouts?: Partial<SessionCoreTimeouts>;
  /** How agents are confined (decided at start; default: unconfined). */
  sandbox?: SandboxDecision;
}

export class SessionManager extends EventEmitter<ManagerEvents> {
  private readonly sessionsRoot: string;
  private readonly cwdRoots = new SessionRoots();
  private readonly launcher: SessionLauncher;
  private readonly workers: LiveWorkers;
  private readonly output: SessionOutput;
  private readonly approvals: SessionApprovals;
  private readonly connect: Connect;
  private readonly timeouts: SessionCoreTimeouts;
  private readonly reconcileDead: (row: SessionRow) => SessionStatus;
  private closed = false;
  /** Journal writes go through this: a full disk degrades the supervisor instead of killing it. */
  readonly journalGuard: JournalGuard;

  constructor(
    private readonly config: Config,
    private readonly journal: Journal,
    private readonly log: Logger,
    catalog?: AgentCatalog,
    io: SessionCoreIo = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.timeouts = {
      ...SessionCoreTimeouts,
      heartbeatIntervalMs: config.HEARTBEAT_INTERVAL,
      heartbeatGraceMs: config.HEARTBEAT_GRACE,
      ...io.timeouts,
    };
    this.connect = io.connect ?? WorkerClient.connect;
    // Every end (exited, killed, lost, recovered from a final record) is journalled before it is told: prune then.
    this.on('lifecycle', (_id, status) => void (isEnded(status) && !this.closed && this.pruneEnded()));
    this.journalGuard = new JournalGuard(log, (detail) => journal.event(null, 'journal_writable_again', detail));
    this.sessionsRoot = path.join(config.STATE_DIR, 'sessions');
    const socketsRoot = path.join(config.STATE_DIR, 'sock');
    for (const dir of [this.sessionsRoot, socketsRoot]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(dir, 0o700);
    }
    const base = { journal, journalGuard: this.journalGuard, log };
    const emit = this.emit.bind(this) as LiveWorkersDeps['emit'];
    this.approvals = new SessionApprovals({ ...base, emit, live: (id) => this.workers.get(id) });
    this.reconcileDead = (row) => reconcileDead({ ...base, emit, endApprovals: (id, status) => this.approvals.ended(id, status) }, row);
    this.launcher = new SessionLauncher({
      ...base,
      config,
      catalog,
      launch: io.launch ?? launchWorker,
      sandbox: io.sandbox ?? { kind: 'none', warning: null },
      sessionsRoot: this.sessionsRoot,
      socketsRoot,
    });
    this.workers = new LiveWorkers({ ...base, connect: this.connect, timeouts: this.timeouts, emit, reconcileDead: this.reconcileDead, approvals: this.approvals });
    this.output = new SessionOutput({ ...base, config, live: (id) => this.workers.get(id), row: (id) => this.row(id) });
  }

  // ---- queries -------------------------------------------------------------

  /** What this supervisor cannot record or reach right now (for /health and doctor). */
  problems(): string[] {
    const out = this.workers.problems();
    return this.journalGuard.unwritable ? [`journal cannot be written: ${this.journalGuard.unwritable}`, ...out] : out;
  }

  list(query: ListQuery = {}): { sessions: SessionInfo[]; nextCursor: string | null; counts: Partial<Record<SessionStatus, number>> } {
    const page = listSessions(this.journal, query);
    const waiting = this.approvals.store.pendingCounts();
    const pendingOf = (id: string) => (waiting.has(id) ? this.approvals.list({ sessionId: id, pendingOnly: true }) : []);
    return { sessions: page.rows.map((row) => toInfo(row, this.workers.get(row.id), pendingOf(row.id))), nextCursor: page.nextCursor, counts: page.counts };
  }

  info(id: string): SessionInfo {
    return toInfo(this.row(id), this.workers.get(id), this.approvals.list({ sessionId: id, pendingOnly: true }));
  }

  // ---- approvals (mode ask, issue 15): the API session_approve, the CLI and the dashboard share ----

  /** Approvals from the journal, oldest first: one session's or every session's; pending ones only if asked. */
  listApprovals(q: { sessionId?: string; pendingOnly?: boolean } = {}): ApprovalInfo[] {
    if (q.sessionId !== undefined) this.row(q.sessionId); // an unknown session is an error, not an empty list
    return this.approvals.list(q);
  }

  /**
   * Answers a pending approval; idempotent (a decided one is answered with who decided it and how,
   * alreadyDecided: true). decidedBy: `connection:<id>`, `cli` or `ui`. Unknown ids are a SessionError.
   */
  async approve(sessionId: string, approvalId: string, decision: ApprovalDecision, message: string | null, decidedBy: string): Promise<ApproveReply> {
    this.journalGuard.assertWritable();
    this.row(sessionId);
    return this.approvals.approve(sessionId, approvalId, decision, message, decidedBy);
  }

  /** Working directories of sessions still running, as pinned at start (the file tools may read there). */
  activeCwds() {
    return this.cwdRoots.rootsOf(this.journal.live());
  }

  private row(id: string): SessionRow {
    const row = this.journal.get(id);
    if (!row) throw new SessionError(`unknown sessionId "${id}" (ended sessions past ENDED_SESSIONS_KEPT are forgotten). Call session_list to see the sessions that exist.`);
    return row;
  }

  // ---- start / recovery --------------------------------------------------------

  async start(req: StartRequest): Promise<{ info: SessionInfo; initialOutput: OutputPage }> {
    if (this.closed) throw new SessionError('agentvisor is shutting down; try again when it is back');
    const spec = await this.launcher.start(req);
    await this.workers.attach(spec.sessionId, spec.socketPath, spec.secret, 'started');
    const initialOutput = await this.output.firstOutput(spec.sessionId);
    return { info: this.info(spec.sessionId), initialOutput };
  }

  /** On start-up: re-attach to every worker the journal believes alive, in parallel (recovery.ts). */
  async reattachAll(): Promise<{ reattached: number; lost: number; ended: number }> {
    const counts = await reattachAll({
      journal: this.journal,
      journalGuard: this.journalGuard,
      log: this.log,
      sessionsRoot: this.sessionsRoot,
      connect: this.connect,
      adopt: (id, client, state) => this.workers.adopt(id, client, state, 're_attached'),
      reconcileDead: this.reconcileDead,
    });
    this.pruneEnded(); // a lowered ENDED_SESSIONS_KEPT, or sessions that ended while we were down
    return counts;
  }

  // ---- send / read / wait / kill ---------------------------------------------

  private liveClient(id: string): WorkerClient {
    const row = this.row(id);
    if (isEnded(row.status)) {
      throw new SessionError(`session ${id} has ended (${row.status}${row.end_reason ? ', ' + row.end_reason : ''}); start a new session to continue.`);
    }
    const client = this.workers.get(id)?.client;
    if (!client) throw new SessionError(`session ${id}'s worker is not reachable right now; try again in a moment.`);
    return client;
  }

  async send(id: string, message: string, raw: boolean, idempotencyKey?: string, limits?: LimitsArg): Promise<SendReply> {
    this.journalGuard.assertWritable();
    const row = this.row(id);
    // Security: a non-raw message becomes an agent's input or, for Codex, its next command line (agentInput.ts).
    const badInput = raw ? null : agentTextProblem(row.agent, 'message', message);
    if (badInput) throw new SessionError(badInput);
    // A key already taken is answered like the first time, not delivered again (#12 item 4; deliverInput too).
    if (isEnded(row.status) && !raw) return priorDelivery(this.journal, id, idempotencyKey) ?? this.resume(row, message, idempotencyKey, limits);
    if (limits) throw new SessionError(`session ${id} is running: limits can be changed only when continuing an ended session`);
    const client = this.liveClient(id);
    try {
      return await deliverInput(client, this.journal, id, { text: message, raw, idempotencyKey }, (fn) => this.journalGuard.write(fn));
    } catch (err) {
      // The agent ended between our look at the journal and the worker's answer: the
      // ended state is on its way; once journalled, continue the session like any ended one.
      if (err instanceof WorkerRequestError && err.code === 'session_ended' && !raw) {
        if (await this.output.waitEnded(id, WorkerTimeouts.exitAckMs)) return this.resume(this.row(id), message, idempotencyKey, limits);
      }
      throw new SessionError(`could not send to session ${id}: ${(err as Error).message}`);
    }
  }

  /** Continues an ended session's conversation in a new worker under the same session id (launching.ts). */
  private async resume(row: SessionRow, message: string, idempotencyKey?: string, limits?: LimitsArg): Promise<SendReply> {
    const wt = worktreeOf(this.journal, row.id);
    if (wt?.removed_at)
      throw new SessionError(
        `session ${row.id} cannot be continued: its worktree was removed by session_cleanup at ${wt.removed_at}; start a new session (its branch ${wt.branch} may still hold the work)`,
      );
    const { spec, inputId, launched } = await this.launcher.resume(row, message, idempotencyKey, limits);
    this.output.forget(row.id);
    try {
      await launched;
      await this.workers.attach(row.id, spec.socketPath, spec.secret, 're_attached');
    } catch (err) {
      this.journalGuard.write(() => this.journal.markLost(row.id, `could not restart the worker to continue: ${(err as Error).message}`));
      throw new SessionError(`could not continue session ${row.id}: ${(err as Error).message}`);
    }
    return { delivered: true, queued: false, resumed: true, inputId, note: `session ${row.id} continues the agent's conversation ${row.agent_session_id}` };
  }

  /** A page of output, with the status a client is shown (awaiting_approval and the list while requests wait). */
  async read(id: string, since: number, limit: number, maxBytes: number): Promise<OutputPage> {
    const page = await this.output.read(id, since, limit, maxBytes);
    return { ...page, ...this.pendingOf(id, page.status) };
  }

  /**
   * Output past `since`; at once, with the list, while the agent waits on an approval the caller
   * has not been shown (`knownApprovals`: a follower that already saw them is not answered in a loop).
   */
  async wait(id: string, since: number | undefined, timeoutMs: number, limit: number, maxBytes: number, signal?: AbortSignal, knownApprovals?: ReadonlySet<string>): Promise<WaitPage> {
    const page = await this.output.wait(id, since, timeoutMs, limit, maxBytes, signal, knownApprovals);
    return { ...page, ...this.pendingOf(id, page.status) };
  }

  /** The status a client is shown and the pending list, when the session waits on approvals. */
  pendingOf(id: string, status: SessionInfo['status']): { status: SessionInfo['status']; pendingApprovals?: ReturnType<typeof pendingView>[] } {
    // Every read and wait comes here: a live worker's state mirrors what waits (approvals.ts keeps it),
    // so the journal is asked only when something does, or when no worker is attached to say.
    const live = this.workers.get(id);
    if (live && live.state.pendingApprovals.length === 0) return { status };
    const pending = this.approvals.list({ sessionId: id, pendingOnly: true });
    if (pending.length === 0) return { status };
    return { status: status === 'running' ? 'awaiting_approval' : status, pendingApprovals: pending.map(pendingView) };
  }

  /** `orApproval`: also returns (true) once the agent waits on an approval; the caller checks which. */
  waitEnded(id: string, timeoutMs: number, signal?: AbortSignal, orApproval = false): Promise<boolean> {
    return this.output.waitEnded(id, timeoutMs, signal, orApproval);
  }

  finalAnswer(id: string): string | null {
    return this.output.finalAnswer(id);
  }

  /** What the agent changed in its cwd since the session started; in a worktree, since its base commit. */
  async diff(id: string): Promise<DiffResult & { base: string | null }> {
    const row = this.row(id);
    const wt = worktreeOf(this.journal, id);
    if (wt && !wt.removed_at) {
      if (!fs.existsSync(wt.path)) return { ok: false, base: wt.base_commit, error: `session ${id}'s worktree ${wt.path} no longer exists`, files: [], lines: [] };
      // The whole worktree, committed and uncommitted work alike: the branch is the session's.
      return { ...(await diffSince(wt.path, wt.base_commit)), base: wt.base_commit };
    }
    if (!row.git_base_tree) {
      return {
        ok: false,
        base: null,
        error: `session ${id}'s cwd (${row.cwd}) was not inside a git repository when it started, so there is no recorded state to diff against. Run git init before starting a session to get diffs.`,
        files: [],
        lines: [],
      };
    }
    if (!fs.existsSync(row.cwd)) return { ok: false, base: row.git_base_tree, error: `cwd ${row.cwd} no longer exists`, files: [], lines: [] };
    return { ...(await diffSince(row.cwd, row.git_base_tree)), base: row.git_base_tree };
  }

  /** The session's worktree, if it was started with one (removed or not). */
  worktree(id: string): WorktreeRow | undefined {
    return worktreeOf(this.journal, id);
  }

  /** Removes a session's worktree (and, if asked, its branch); refuses uncommitted work unless `force`. */
  async cleanup(id: string, opts: { deleteBranch: boolean; force: boolean }): Promise<Removal & { path: string; branch: string }> {
    this.journalGuard.assertWritable();
    const wt = worktreeOf(this.journal, id);
    if (!wt) throw new SessionError(`session ${id} has no worktree (it was not started with worktree, or the id is unknown)`);
    if (wt.removed_at) throw new SessionError(`session ${id}'s worktree ${wt.path} was already removed at ${wt.removed_at}`);
    const row = this.journal.get(id);
    if (row && !isEnded(row.status)) throw new SessionError(`session ${id} is still ${row.status}; end it with session_kill before removing its worktree`);
    const { dirExists } = await inspect(toRecord(wt));
    if (dirExists && !opts.force) {
      const st = await uncommitted(wt.path);
      if (!st.ok) throw new SessionError(`${st.error}; force: true removes the worktree anyway`);
      if (st.lines.length > 0) {
        const shown = st.lines.slice(0, 10).join('; ') + (st.lines.length > 10 ? `; … ${st.lines.length - 10} more` : '');
        throw new SessionError(`session ${id}'s worktree ${wt.path} has uncommitted changes (${shown}); commit them on ${wt.branch}, or pass force: true to discard them`);
      }
    }
    const removed = await removeWorktree(toRecord(wt), opts);
    if ('error' in removed) throw new SessionError(`could not remove session ${id}'s worktree: ${removed.error}`);
    this.journalGuard.mustWrite(() => markWorktreeRemoved(this.journal, id, { path: wt.path, branch: wt.branch, branchDeleted: removed.branchDeleted, force: opts.force }));
    return { ...removed, path: wt.path, branch: wt.branch };
  }

  async interrupt(id: string): Promise<SessionInfo & { note?: string }> {
    const row = this.row(id);
    if (isEnded(row.status)) return { ...toInfo(row, undefined), note: `session had already ended (${row.status}); session_send continues it` };
    const state = await this.liveClient(id).request('interrupt', {});
    this.journalGuard.write(() => this.journal.event(id, 'interrupted', { agentPid: state.agentPid }));
    return { ...this.info(id), note: 'the current turn is being interrupted; session_send continues the conversation' };
  }

  async kill(id: string, reason: EndReason = 'killed'): Promise<SessionInfo & { note?: string }> {
    const row = this.row(id);
    if (isEnded(row.status)) return { ...toInfo(row, undefined), note: `session had already ended (${row.status})` };
    const state = await this.liveClient(id).request('kill', { reason });
    const live = this.workers.get(id);
    if (live) {
      this.workers.applyKillAnswer(live, state, reason);
      await this.output.waitForChange(id, () => this.output.hasEnded(id), this.timeouts.killReplyWaitMs);
    }
    return this.info(id);
  }

  // ---- lifetime ----------------------------------------------------------------

  private pruneEnded(): void {
    for (const id of forgetEndedBeyond(this.journal, this.config.ENDED_SESSIONS_KEPT, this.sessionsRoot, this.log)) this.output.forget(id);
  }

  /**
   * Stops supervising. Workers keep running for the next supervisor unless
   * `killSessions`, in which case every session is ended first (SIGTERM, then
   * SIGKILL after KILL_GRACE, by each worker). Pending waits are answered at once.
   */
  async close(opts: { killSessions: boolean }): Promise<void> {
    if (opts.killSessions) {
      const ids = this.workers.ids();
      await Promise.all(ids.map((id) => this.kill(id, 'shutdown').catch(() => undefined)));
      await Promise.all(ids.map((id) => this.output.waitForChange(id, () => this.output.hasEnded(id), this.config.KILL_GRACE + this.timeouts.shutdownKillMarginMs)));
    }
    this.closed = true;
    this.workers.closeAll();
  }
}
