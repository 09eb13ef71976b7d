/**
 * What a session has spent (tokens, cost, turns, wall time) and its budget (issue 18 item 2),
 * kept by the worker: it has the usage as the driver reports it, owns the wall-time timer, and
 * outlives supervisor restarts. A continued session's worker starts from what the previous ones
 * spent (spec.spent), so the totals and the limits cover the whole session. Agent-blind: the
 * session calls in on the driver's usage and turn events and ends itself when told a limit is
 * reached.
 */
import { type Spent, limitReached } from '../shared/budget';
import type { SessionLimits } from '../shared/protocol';
import type { SessionUsage, UsageDelta } from './drivers/driver';

export class SessionSpend {
  /** Null until the agent (or a previous worker) reports any. */
  private usageSoFar: SessionUsage | null;
  private turns: number;
  private readonly priorRunMs: number;
  private readonly startedAt = Date.now();
  private stoppedAt: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private reached = false;

  constructor(
    private readonly limits: SessionLimits,
    prior: Spent | null | undefined,
    /** Called once, with the limit as the output line names it (`maxTokens 100 (spent 150)`). */
    private readonly onReached: (limit: string) => void,
  ) {
    this.usageSoFar = prior?.usage ? { ...prior.usage } : null;
    this.turns = prior?.usage?.turns ?? 0;
    this.priorRunMs = prior?.runMs ?? 0;
  }

  /** Arms the wall-time limit with what is left of it after the previous workers' time; checks what they spent. */
  start(): void {
    const max = this.limits.maxDurationMs;
    if (max !== null) this.timer = setTimeout(() => this.check(false), Math.max(0, max - this.priorRunMs));
    this.check(true);
  }

  usage(): SessionUsage | null {
    return this.usageSoFar && { ...this.usageSoFar };
  }

  runMs(): number {
    return this.priorRunMs + (this.stoppedAt ?? Date.now()) - this.startedAt;
  }

  add(delta: UsageDelta): void {
    const u = this.usageSoFar ?? { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, costUsd: null, turns: this.turns };
    u.inputTokens += delta.inputTokens;
    u.cachedInputTokens += delta.cachedInputTokens;
    u.outputTokens += delta.outputTokens;
    if (delta.costUsd !== null) u.costUsd = (u.costUsd ?? 0) + delta.costUsd;
    this.usageSoFar = u;
    this.check(false);
  }

  turnStarted(): void {
    this.check(true);
  }

  turnEnded(): void {
    this.turns++;
    if (this.usageSoFar) this.usageSoFar.turns = this.turns;
    this.check(false);
  }

  /** The session has ended: its time stops counting and no limit fires any more. */
  stop(): void {
    if (this.stoppedAt === null) this.stoppedAt = Date.now();
    this.dispose();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(turnStarting: boolean): void {
    if (this.reached || this.stoppedAt !== null) return;
    const usage = this.usageSoFar ?? (this.turns > 0 ? { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, costUsd: null, turns: this.turns } : null);
    const limit = limitReached(this.limits, { usage, runMs: this.runMs() }, turnStarting);
    if (!limit) return;
    this.reached = true;
    this.dispose();
    this.onReached(limit);
  }
}
