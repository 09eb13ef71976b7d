/**
 * The one definition of "has this session reached a limit of its budget" (issue 18 item 2): the
 * worker asks it after each usage report, turn and tick of its wall-time timer; the supervisor
 * asks it before continuing an ended session. Both sides read the same numbers (the worker's
 * usage, journalled), so a session the worker stopped is one the supervisor refuses to resume.
 */
import type { SessionLimits, Usage } from './protocol';

export interface Spent {
  usage: Usage | null;
  /** Wall time the session's agent has run, across resumes. */
  runMs: number;
}

/**
 * The first limit `spent` has reached, named as the worker's output line says it
 * (`maxCostUsd 0.50 (spent 0.61)`); null while within every limit. Cost, tokens and time count as
 * reached at the limit itself: Claude's own --max-budget-usd stops there too. Turns are checked
 * before one starts (`turnStarting`): ending a session because its last allowed turn finished
 * would call finished work a failure. Past a start (an agent that does not say when each turn
 * starts), a turn beyond the limit is caught when it ends.
 */
export function limitReached(limits: SessionLimits, spent: Spent, turnStarting: boolean): string | null {
  const u = spent.usage;
  if (limits.maxCostUsd !== null && u?.costUsd != null && u.costUsd >= limits.maxCostUsd) {
    return `maxCostUsd ${limits.maxCostUsd.toFixed(2)} (spent ${u.costUsd.toFixed(2)})`;
  }
  const tokens = u ? u.inputTokens + u.outputTokens : 0;
  if (limits.maxTokens !== null && tokens >= limits.maxTokens) return `maxTokens ${limits.maxTokens} (spent ${tokens})`;
  const turns = u?.turns ?? 0;
  if (limits.maxTurns !== null && (turnStarting ? turns >= limits.maxTurns : turns > limits.maxTurns)) return `maxTurns ${limits.maxTurns} (taken ${turns})`;
  if (limits.maxDurationMs !== null && spent.runMs >= limits.maxDurationMs) return `maxDurationMs ${limits.maxDurationMs} (ran ${spent.runMs})`;
  return null;
}
