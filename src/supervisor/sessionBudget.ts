/**
 * A session's spend as the journal holds it (the worker's usage, across its resumed workers) and
 * its budget (issue 18 item 2): the server's defaults, what session_start or a continuing
 * session_send asks, and the refusal to continue a session that has reached a limit. The worker
 * enforces the limits (worker/sessionSpend.ts); both ask shared/budget.ts whether one is reached.
 */
import { type Spent, limitReached } from '../shared/budget';
import { ContractError, NO_LIMITS, SessionLimits, type Usage } from '../shared/protocol';
import type { Config } from './config';
import type { SessionRow } from './journal';

/** Limits a client names; the others keep their value (the server's default, or the session's). */
export type LimitsArg = Partial<Record<keyof SessionLimits, number>>;

export function usageOf(row: SessionRow): Usage | null {
  if (row.input_tokens === null) return null;
  return {
    inputTokens: row.input_tokens,
    cachedInputTokens: row.cached_input_tokens ?? 0,
    outputTokens: row.output_tokens ?? 0,
    costUsd: row.cost_usd,
    turns: row.turns ?? 0,
  };
}

export function spentOf(row: SessionRow): Spent {
  return { usage: usageOf(row), runMs: row.run_ms ?? 0 };
}

/** The row's limits; a column that does not parse (edited by hand) counts as none rather than failing every listing. */
export function limitsOf(row: SessionRow): SessionLimits | null {
  if (!row.limits) return null;
  try {
    return SessionLimits.parse(JSON.parse(row.limits));
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof ContractError) return null;
    throw err;
  }
}

/** As the journal keeps them: null when no limit is set. */
export function limitsJson(limits: SessionLimits): string | null {
  return Object.values(limits).some((v) => v !== null) ? JSON.stringify(limits) : null;
}

export function defaultLimits(config: Pick<Config, 'DEFAULT_MAX_COST_USD' | 'DEFAULT_MAX_TOKENS' | 'DEFAULT_MAX_TURNS' | 'DEFAULT_MAX_DURATION_MS'>): SessionLimits {
  return {
    maxCostUsd: config.DEFAULT_MAX_COST_USD ?? null,
    maxTokens: config.DEFAULT_MAX_TOKENS ?? null,
    maxTurns: config.DEFAULT_MAX_TURNS ?? null,
    maxDurationMs: config.DEFAULT_MAX_DURATION_MS ?? null,
  };
}

export function withLimits(base: SessionLimits, arg: LimitsArg | undefined): SessionLimits {
  return { ...NO_LIMITS, ...base, ...arg };
}

/** Why an ended session may not be continued under `limits`, or null when it may. */
export function resumeRefusal(row: SessionRow, limits: SessionLimits): string | null {
  const reached = limitReached(limits, spentOf(row), true);
  if (!reached) return null;
  const name = reached.split(' ')[0];
  return `session ${row.id} has reached its budget: ${reached}. To continue it, pass session_send a higher limits.${name}.`;
}
