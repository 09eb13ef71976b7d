/**
 * The journal's record of mode `ask`'s permission requests (issue 15): one row per
 * approval, written before any client hears of it, so a supervisor killed with
 * requests pending finds them again and a decided one can always say who decided
 * it. The table is created by the journal's migrations (journal.ts, version 4);
 * this file holds its queries. Every field came from an agent through its worker:
 * bounded here, shown only through the sanitised paths.
 */
import type { ApprovalOutcome, PendingApproval } from '../shared/protocol';
import type { Journal } from './journal';

/** pending: the agent waits; decided: answered (by anyone); withdrawn: the agent stopped asking; lost: its worker died. */
export type ApprovalState = 'pending' | 'decided' | 'withdrawn' | 'lost';

/** One approval as the tools, the CLI and the dashboard see it. */
export interface ApprovalInfo {
  sessionId: string;
  approvalId: string;
  kind: string;
  summary: string;
  request: unknown;
  decisions: string[];
  createdAt: string;
  state: ApprovalState;
  decision: string | null;
  message: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

export const ApprovalBounds = {
  /** The agent's request as journalled: enough for a command and its context; a bigger one keeps a preview. */
  requestChars: 16_384,
  /** A one-line summary a person reads. */
  summaryChars: 500,
  /** The deny message an agent is shown. */
  messageChars: 4_096,
} as const;

interface Row {
  session_id: string;
  approval_id: string;
  kind: string;
  summary: string;
  request: string;
  decisions: string;
  created_at: string;
  decided_at: string | null;
  decision: string | null;
  message: string | null;
  decided_by: string | null;
  state: ApprovalState;
}

function boundedRequest(request: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(request ?? null) ?? 'null';
  } catch {
    text = JSON.stringify({ unserialisable: true });
  }
  if (text.length <= ApprovalBounds.requestChars) return text;
  return JSON.stringify({ truncated: true, chars: text.length, preview: text.slice(0, ApprovalBounds.requestChars - 100) });
}

function toInfo(r: Row): ApprovalInfo {
  return {
    sessionId: r.session_id,
    approvalId: r.approval_id,
    kind: r.kind,
    summary: r.summary,
    request: JSON.parse(r.request) as unknown,
    decisions: JSON.parse(r.decisions) as string[],
    createdAt: r.created_at,
    state: r.state,
    decision: r.decision,
    message: r.message,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
  };
}

export class ApprovalStore {
  constructor(private readonly journal: Journal) {}

  private run(sql: string, params: Record<string, unknown>): number {
    return this.journal.stmt(sql).run(params).changes;
  }

  /** A new pending request; a repeat (re-attach, a replayed event) changes nothing. */
  recordPending(sessionId: string, a: PendingApproval): void {
    this.run(
      `INSERT OR IGNORE INTO approvals (session_id, approval_id, kind, summary, request, decisions, created_at, state)
       VALUES (@sessionId, @approvalId, @kind, @summary, @request, @decisions, @createdAt, 'pending')`,
      {
        sessionId,
        approvalId: a.approvalId,
        kind: a.kind,
        summary: a.summary.slice(0, ApprovalBounds.summaryChars),
        request: boundedRequest(a.request),
        decisions: JSON.stringify(a.decisions),
        createdAt: a.createdAt,
      },
    );
  }

  /** How a pending one ended; an outcome for one already ended (a repeat) changes nothing. */
  recordOutcome(sessionId: string, o: ApprovalOutcome): boolean {
    return (
      this.run(
        `UPDATE approvals SET state = @state, decision = @decision, message = @message, decided_by = @decidedBy, decided_at = @decidedAt
         WHERE session_id = @sessionId AND approval_id = @approvalId AND state = 'pending'`,
        {
          sessionId,
          approvalId: o.approvalId,
          state: o.decision === 'withdrawn' ? 'withdrawn' : 'decided',
          decision: o.decision,
          message: o.message === null ? null : o.message.slice(0, ApprovalBounds.messageChars),
          decidedBy: o.decidedBy,
          decidedAt: o.decidedAt,
        },
      ) > 0
    );
  }

  /** Ends every pending request of a session that can no longer be answered (its worker died: lost; its agent ended: withdrawn). */
  endPending(sessionId: string, state: 'lost' | 'withdrawn', why: string): number {
    return this.run(
      `UPDATE approvals SET state = @state, decision = CASE WHEN @state = 'withdrawn' THEN 'withdrawn' ELSE NULL END, message = @why,
         decided_by = CASE WHEN @state = 'withdrawn' THEN 'agent' ELSE NULL END, decided_at = @at
       WHERE session_id = @sessionId AND state = 'pending'`,
      { sessionId, state, why, at: new Date().toISOString() },
    );
  }

  /**
   * On (re-)attach, the worker's list is the truth of what still waits: new ones are recorded,
   * and journalled ones it no longer holds were ended while no supervisor was connected (by its
   * timeout or the agent; the outcome event went nowhere), so they can no longer be answered.
   */
  reconcile(sessionId: string, held: readonly PendingApproval[]): void {
    for (const a of held) this.recordPending(sessionId, a);
    const keep = new Set(held.map((a) => a.approvalId));
    for (const r of this.list({ sessionId, pendingOnly: true })) {
      if (keep.has(r.approvalId)) continue;
      this.run(`UPDATE approvals SET state = 'lost', message = @why, decided_at = @at WHERE session_id = @sessionId AND approval_id = @approvalId AND state = 'pending'`, {
        sessionId,
        approvalId: r.approvalId,
        why: 'ended while agentvisor was not connected to the worker (its timeout, or the agent withdrew it)',
        at: new Date().toISOString(),
      });
    }
  }

  get(sessionId: string, approvalId: string): ApprovalInfo | undefined {
    const r = this.journal.stmt('SELECT * FROM approvals WHERE session_id = ? AND approval_id = ?').get(sessionId, approvalId) as Row | undefined;
    return r && toInfo(r);
  }

  /** Oldest first: the order the agents asked in. */
  list(q: { sessionId?: string; pendingOnly?: boolean } = {}): ApprovalInfo[] {
    const rows = this.journal
      .stmt(
        `SELECT * FROM approvals WHERE (@sessionId IS NULL OR session_id = @sessionId) AND (@pendingOnly = 0 OR state = 'pending')
         ORDER BY created_at, rowid`,
      )
      .all({ sessionId: q.sessionId ?? null, pendingOnly: q.pendingOnly ? 1 : 0 }) as Row[];
    return rows.map(toInfo);
  }

  /** Sessions with at least one pending request, and how many: what makes a running session `awaiting_approval`. */
  pendingCounts(): Map<string, number> {
    const rows = this.journal.stmt("SELECT session_id, COUNT(*) AS n FROM approvals WHERE state = 'pending' GROUP BY session_id").all() as Array<{ session_id: string; n: number }>;
    return new Map(rows.map((r) => [r.session_id, r.n]));
  }
}
