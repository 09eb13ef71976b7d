/**
 * Mode ask's permission requests on the supervisor's side (issue 15): each one a
 * worker reports is journalled before any client is told (approvalStore.ts), the
 * live record mirrors what the worker holds (what wakes a session_wait at once),
 * and answers go to the worker, which alone decides whether an answer came first.
 * What a worker cannot report any more is ended here: a worker that died leaves
 * its requests `lost`, an agent that ended leaves them `withdrawn`.
 */
import type { ApprovalDecision, ApprovalOutcome, PendingApproval, WorkerState } from '../../shared/protocol';
import { type ApprovalInfo, ApprovalBounds, ApprovalStore } from '../approvalStore';
import { SessionError } from '../sessionError';
import { WorkerRequestError } from '../workerClient';
import type { CoreBase, Emit, LiveWorker } from './sessionTypes';

export interface ApprovalsDeps extends CoreBase {
  emit: Emit;
  live(id: string): LiveWorker | undefined;
}

export interface ApproveReply {
  approval: ApprovalInfo;
  /** It had been decided before (by whoever `approval.decidedBy` names); this answer changed nothing. */
  alreadyDecided: boolean;
}

export class SessionApprovals {
  readonly store: ApprovalStore;

  constructor(private readonly d: ApprovalsDeps) {
    this.store = new ApprovalStore(d.journal);
  }

  /** A worker (re-)attached: what it holds is what waits (approvalStore.reconcile). */
  attached(id: string, state: WorkerState): void {
    this.d.journalGuard.write(() => this.store.reconcile(id, state.pendingApprovals));
  }

  pending(id: string, live: LiveWorker, approval: PendingApproval): void {
    this.d.journalGuard.write(() =>
      this.d.journal.tx(() => {
        this.store.recordPending(id, approval);
        this.d.journal.event(id, 'approval_pending', { approvalId: approval.approvalId, kind: approval.kind, summary: approval.summary.slice(0, ApprovalBounds.summaryChars) });
      }),
    );
    if (!live.state.pendingApprovals.some((a) => a.approvalId === approval.approvalId)) {
      live.state = { ...live.state, pendingApprovals: [...live.state.pendingApprovals, approval] };
    }
    this.d.log.info('approval pending', { sessionId: id, approvalId: approval.approvalId, kind: approval.kind });
    this.d.emit('approval', id, { event: 'approval_pending', approvalId: approval.approvalId, kind: approval.kind, summary: approval.summary.slice(0, ApprovalBounds.summaryChars) });
  }

  resolved(id: string, live: LiveWorker | undefined, outcome: ApprovalOutcome): void {
    // Every outcome is in the session's history, also those no one was asked about (a rule of the spec answers before any pending event).
    this.d.journalGuard.write(() =>
      this.d.journal.tx(() => {
        if (this.store.recordOutcome(id, outcome)) this.d.journal.event(id, 'approval_resolved', { ...outcome, message: outcome.message?.slice(0, ApprovalBounds.messageChars) ?? null });
        else if (!this.store.get(id, outcome.approvalId))
          this.d.journal.event(id, 'approval_resolved', { ...outcome, message: outcome.message?.slice(0, ApprovalBounds.messageChars) ?? null, asked: false });
      }),
    );
    if (live) live.state = { ...live.state, pendingApprovals: live.state.pendingApprovals.filter((a) => a.approvalId !== outcome.approvalId) };
    this.d.log.info('approval resolved', { sessionId: id, approvalId: outcome.approvalId, decision: outcome.decision, decidedBy: outcome.decidedBy });
    this.d.emit('approval', id, { event: 'approval_resolved', approvalId: outcome.approvalId, decision: outcome.decision, decidedBy: outcome.decidedBy });
  }

  /** The session ended (`lost`: its worker died): nothing it asked can be answered any more. */
  ended(id: string, status: string): void {
    const lost = status === 'lost';
    this.d.journalGuard.write(() =>
      this.store.endPending(id, lost ? 'lost' : 'withdrawn', lost ? "the session's worker died while this request was pending" : `the session ended (${status}) while this request was pending`),
    );
  }

  /**
   * Answers a pending request through its worker; idempotent: a decided one answers who
   * decided it and how (from the journal, or from the worker when its event has not come yet).
   */
  async approve(id: string, approvalId: string, decision: ApprovalDecision, message: string | null, decidedBy: string): Promise<ApproveReply> {
    const known = this.store.get(id, approvalId);
    if (known && known.state !== 'pending') return { approval: known, alreadyDecided: true };
    const client = this.d.live(id)?.client;
    if (!client) {
      if (!known) throw unknownApproval(id, approvalId);
      throw new SessionError(`session ${id}'s worker is not reachable right now; approval ${approvalId} is still pending, try again in a moment.`);
    }
    let answer;
    try {
      answer = await client.request('approve', { approvalId, decision, decidedBy, ...(message !== null ? { message } : {}) });
    } catch (err) {
      if (err instanceof WorkerRequestError && err.code === 'bad_request' && !known) throw unknownApproval(id, approvalId);
      throw new SessionError(`could not answer approval ${approvalId} of session ${id}: ${(err as Error).message}`);
    }
    // The worker's approvalResolved event usually comes first (and journalled it); record it here only if it has not.
    const recorded = this.store.get(id, approvalId);
    if (!recorded || recorded.state === 'pending') this.resolved(id, this.d.live(id), answer.outcome);
    const approval = this.store.get(id, approvalId) ?? { ...fromOutcome(id, answer.outcome) };
    return { approval, alreadyDecided: answer.alreadyDecided };
  }

  list(q: { sessionId?: string; pendingOnly?: boolean } = {}): ApprovalInfo[] {
    return this.store.list(q);
  }
}

function unknownApproval(id: string, approvalId: string): SessionError {
  return new SessionError(`unknown approvalId "${approvalId.slice(0, 128)}" for session ${id}: session_wait or session_list list its pending approvals.`);
}

/** An outcome the journal could not record (a full disk): shown as the worker reported it. */
function fromOutcome(sessionId: string, o: ApprovalOutcome): ApprovalInfo {
  return {
    sessionId,
    approvalId: o.approvalId,
    kind: 'unknown',
    summary: '',
    request: null,
    decisions: [],
    createdAt: o.decidedAt,
    state: o.decision === 'withdrawn' ? 'withdrawn' : 'decided',
    decision: o.decision,
    message: o.message,
    decidedBy: o.decidedBy,
    decidedAt: o.decidedAt,
  };
}
