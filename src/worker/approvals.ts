/**
 * The permission requests of one session (mode `ask`, issue 15), held by the worker while the
 * agent waits: the spec's rules and the session's own (`allow_for_session`) answer what they
 * cover at once; everything else is pending until someone decides, the timeout denies it (fail
 * closed), or the agent withdraws it (its turn or process ended). Every end is an outcome,
 * remembered for a while so a repeated answer is told who decided first. Agent-blind: the
 * driver says what a request is (tool, command, the scope a session grant covers) and delivers
 * the answer; this file decides.
 */
import type { ApprovalDecision, ApprovalOutcome, PendingApproval, ResultOf, WorkerSpec } from '../shared/protocol';
import { inlineField } from '../shared/sanitize';
import type { ApprovalAnswer, ApprovalRequest, ApprovalResult, SessionScope } from './drivers/driver';

/** Outcomes kept for repeated answers: a client retrying, or a second client answering late. Bounded so a long session cannot grow it without end. */
export const RECENT_OUTCOMES = 1_000;

/** Requests held at once. An agent asks one at a time (a few with parallel tool calls); past this it is flooding, and more are denied at once. */
export const MAX_PENDING = 100;

/**
 * Shell syntax that can chain, substitute or redirect: a command holding any of it never matches a
 * prefix rule (`npm test; rm -rf ~` starts with `npm test`), so it is asked instead. Fail closed.
 */
const SHELL_SYNTAX = /[;&|`$<>()\n\r\\*?{}[\]'"!#~]/;

/** `command` is `prefix` or `prefix` followed by arguments, and nothing a shell would read as more than one command. */
export function commandMatchesPrefix(command: string, prefix: string): boolean {
  const c = command.trim();
  const p = prefix.trim();
  if (!p || SHELL_SYNTAX.test(c)) return false;
  return c === p || c.startsWith(p + ' ');
}

/** A session grant covers a later request of its tool only as far as its match says (driver.ts SessionScope). */
function grantCovers(g: SessionScope, req: ApprovalRequest): boolean {
  if (g.tool !== req.tool) return false;
  if (g.match === 'tool') return true;
  if (g.match === 'commandPrefix') return req.command !== undefined && commandMatchesPrefix(req.command, g.value);
  if (g.match === 'command') return req.command !== undefined && req.command.trim() === g.value.trim();
  // A file or an input: the later request's own narrowest scope names the same one.
  return req.sessionScope?.match === g.match && req.sessionScope.value === g.value;
}

/** A request now waits for a decision (told before anyone but a rule can answer it), or one has ended. */
export type ApprovalEvent = { approval: PendingApproval } | { outcome: ApprovalOutcome };

export interface ApprovalEvents {
  emit(ev: ApprovalEvent): void;
  /** A readable output line about it. */
  line(text: string): void;
  /** The pending set changed: the session's state should be told. */
  changed(): void;
}

export type ApproveAnswer = ResultOf<'approve'> | { error: string };

interface Held {
  request: ApprovalRequest;
  pending: PendingApproval;
  timer: NodeJS.Timeout | undefined;
}

export class ApprovalBook {
  private readonly held = new Map<string, Held>();
  private readonly recent = new Map<string, ApprovalOutcome>();
  /** What `allow_for_session` answers have granted, for drivers whose agent does not remember it itself. */
  private readonly scopes: SessionScope[] = [];

  constructor(
    private readonly rules: WorkerSpec['approvals'],
    /** Delivers a decision to the agent (the driver's answerApproval). */
    private readonly deliver: (approvalId: string, answer: ApprovalAnswer) => ApprovalResult,
    private readonly events: ApprovalEvents,
  ) {}

  get size(): number {
    return this.held.size;
  }

  pending(): PendingApproval[] {
    return [...this.held.values()].map((h) => h.pending);
  }

  /** The agent asks. A rule answers it at once; otherwise it is held, and the timeout starts. */
  requested(request: ApprovalRequest): void {
    const id = request.approvalId;
    if (this.held.has(id) || this.recent.has(id)) return; // a driver's id is unique; a repeat changes nothing
    const rule = this.ruleFor(request);
    if (rule) {
      const r = this.deliver(id, { decision: 'allow' });
      if (r.ok) {
        this.record(id, request.summary, 'allow', null, 'rule', `allowed by rule ${rule}`);
        return;
      }
      // The answer could not reach the agent: hold it, so a person sees it rather than nothing.
    }
    if (this.held.size >= MAX_PENDING) {
      const message = `Denied: ${MAX_PENDING} permission requests are already waiting for a decision.`;
      const r = this.deliver(id, { decision: 'deny', message });
      this.record(id, request.summary, r.ok ? 'deny' : 'withdrawn', r.ok ? message : null, r.ok ? 'limit' : 'agent', r.ok ? 'denied: too many waiting' : `withdrawn: ${r.error}`);
      return;
    }
    const pending: PendingApproval = { approvalId: id, kind: request.kind, summary: request.summary, request: request.request, decisions: [...request.decisions], createdAt: new Date().toISOString() };
    const ms = this.rules.timeoutMs;
    const timer = ms > 0 ? setTimeout(() => this.timedOut(id, ms), ms) : undefined;
    this.held.set(id, { request, pending, timer });
    this.events.emit({ approval: pending });
    this.events.line(`[approval] pending ${id}: ${inlineField(request.summary)}`);
    this.events.changed();
  }

  /** Someone decides. Idempotent: a decided id answers its first outcome. */
  answer(approvalId: string, decision: ApprovalDecision, message: string | null, decidedBy: string): ApproveAnswer {
    const done = this.recent.get(approvalId);
    if (done) return { outcome: done, alreadyDecided: true };
    const h = this.held.get(approvalId);
    if (!h) return { error: `no approval ${approvalId} in this session` };
    if (!h.request.decisions.includes(decision)) return { error: `approval ${approvalId} cannot be answered ${decision}; it offers ${h.request.decisions.join(', ')}` };
    const r = this.deliver(approvalId, { decision, ...(message !== null ? { message } : {}) });
    if (!r.ok) return { error: `approval ${approvalId} could not be answered: ${r.error}` };
    const scope = h.request.sessionScope;
    if (decision === 'allow_for_session' && scope) this.scopes.push({ ...scope });
    const outcome = this.record(
      approvalId,
      h.request.summary,
      decision,
      message,
      decidedBy,
      `${decision === 'deny' ? 'denied' : decision === 'allow' ? 'allowed' : 'allowed for the session'} by ${decidedBy}`,
    );
    if (decision === 'allow_for_session' && scope) this.applyScopes();
    return { outcome, alreadyDecided: false };
  }

  /** The agent no longer waits for it (its turn was cancelled, or it was answered by the agent's own means). */
  withdraw(approvalId: string, why: string): void {
    const h = this.held.get(approvalId);
    if (h) this.record(approvalId, h.request.summary, 'withdrawn', null, 'agent', `withdrawn: ${why}`);
  }

  /** The agent's process ended: nothing it asked can be answered any more. */
  withdrawAll(why: string): void {
    for (const id of [...this.held.keys()]) this.withdraw(id, why);
  }

  dispose(): void {
    for (const h of this.held.values()) if (h.timer) clearTimeout(h.timer);
  }

  private timedOut(approvalId: string, ms: number): void {
    const h = this.held.get(approvalId);
    if (!h) return;
    const message = `No decision within ${Math.round(ms / 1000)} s (APPROVAL_TIMEOUT): denied. Do not retry it; ask for it in your answer instead.`;
    const r = this.deliver(approvalId, { decision: 'deny', message });
    // Undeliverable means the agent is gone; its exit withdraws the rest, this one ends here.
    this.record(approvalId, h.request.summary, r.ok ? 'deny' : 'withdrawn', r.ok ? message : null, r.ok ? 'timeout' : 'agent', r.ok ? 'denied by timeout' : `withdrawn: ${r.error}`);
  }

  private ruleFor(req: ApprovalRequest): string | null {
    if (req.tool && this.rules.allowTools.includes(req.tool)) return `allowTools ${inlineField(req.tool)}`;
    const cmd = req.command;
    if (cmd !== undefined) {
      const p = this.rules.allowCommandPrefixes.find((x) => commandMatchesPrefix(cmd, x));
      if (p !== undefined) return `allowCommandPrefixes ${inlineField(p)}`;
    }
    const s = this.scopes.find((g) => grantCovers(g, req));
    if (!s) return null;
    return `allow_for_session ${inlineField(s.match === 'tool' ? s.tool : s.match === 'input' ? `${s.tool}: the same input` : `${s.tool}: ${s.value}`)}`;
  }

  /** A new session grant may cover requests already waiting (parallel tool calls). */
  private applyScopes(): void {
    for (const [id, h] of [...this.held]) {
      const rule = this.ruleFor(h.request);
      if (rule && this.deliver(id, { decision: 'allow' }).ok) this.record(id, h.request.summary, 'allow', null, 'rule', `allowed by rule ${rule}`);
    }
  }

  private record(approvalId: string, summary: string, decision: ApprovalOutcome['decision'], message: string | null, decidedBy: string, what: string): ApprovalOutcome {
    const h = this.held.get(approvalId);
    if (h?.timer) clearTimeout(h.timer);
    this.held.delete(approvalId);
    const outcome: ApprovalOutcome = { approvalId, decision, message, decidedBy, decidedAt: new Date().toISOString() };
    this.recent.set(approvalId, outcome);
    if (this.recent.size > RECENT_OUTCOMES) this.recent.delete(this.recent.keys().next().value as string);
    this.events.emit({ outcome });
    this.events.line(`[approval] ${approvalId} ${what}: ${inlineField(summary)}${message ? ` (${inlineField(message)})` : ''}`);
    this.events.changed();
    return outcome;
  }
}
