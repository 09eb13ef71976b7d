/**
 * The budget check both processes ask (shared/budget.ts) and the supervisor's reading of a
 * session's spend and limits back from the journal (sessionBudget.ts), in process.
 */
import { limitReached } from '../../src/shared/budget';
import { NO_LIMITS } from '../../src/shared/protocol';
import type { SessionRow } from '../../src/supervisor/journal';
import { defaultLimits, limitsJson, limitsOf, resumeRefusal, spentOf, usageOf, withLimits } from '../../src/supervisor/sessionBudget';

const usage = (tokens: [number, number], costUsd: number | null, turns = 1) => ({ inputTokens: tokens[0], cachedInputTokens: 0, outputTokens: tokens[1], costUsd, turns });

test('each limit counts as reached at the limit itself, turns only as one starts; the first reached is named', () => {
  expect(limitReached({ ...NO_LIMITS, maxCostUsd: 0.5 }, { usage: usage([1, 1], 0.49), runMs: 0 }, false)).toBeNull();
  expect(limitReached({ ...NO_LIMITS, maxCostUsd: 0.5 }, { usage: usage([1, 1], 0.5), runMs: 0 }, false)).toBe('maxCostUsd 0.50 (spent 0.50)');
  expect(limitReached({ ...NO_LIMITS, maxCostUsd: 0.5 }, { usage: usage([1, 1], null), runMs: 0 }, false)).toBeNull(); // an agent that reports no cost
  expect(limitReached({ ...NO_LIMITS, maxTokens: 100 }, { usage: usage([60, 39], null), runMs: 0 }, false)).toBeNull();
  expect(limitReached({ ...NO_LIMITS, maxTokens: 100 }, { usage: usage([60, 40], null), runMs: 0 }, false)).toBe('maxTokens 100 (spent 100)');
  expect(limitReached({ ...NO_LIMITS, maxTurns: 2 }, { usage: usage([1, 1], null, 2), runMs: 0 }, false)).toBeNull();
  expect(limitReached({ ...NO_LIMITS, maxTurns: 2 }, { usage: usage([1, 1], null, 2), runMs: 0 }, true)).toBe('maxTurns 2 (taken 2)');
  // A turn whose start went unseen is caught as it ends.
  expect(limitReached({ ...NO_LIMITS, maxTurns: 2 }, { usage: usage([1, 1], null, 3), runMs: 0 }, false)).toBe('maxTurns 2 (taken 3)');
  expect(limitReached({ ...NO_LIMITS, maxDurationMs: 1_000 }, { usage: null, runMs: 999 }, true)).toBeNull();
  expect(limitReached({ ...NO_LIMITS, maxDurationMs: 1_000 }, { usage: null, runMs: 1_000 }, true)).toBe('maxDurationMs 1000 (ran 1000)');
  expect(limitReached({ maxCostUsd: 1, maxTokens: 10, maxTurns: 1, maxDurationMs: 1 }, { usage: usage([5, 5], 2, 3), runMs: 5 }, true)).toMatch(/^maxCostUsd/);
  expect(limitReached(NO_LIMITS, { usage: usage([1e9, 1e9], 1e6, 1e6), runMs: 1e9 }, true)).toBeNull();
});

const row = (over: Partial<SessionRow>): SessionRow =>
  ({ id: 'sess', input_tokens: null, cached_input_tokens: null, output_tokens: null, cost_usd: null, turns: null, run_ms: 0, limits: null, ...over }) as SessionRow;

test("the journal's columns read back as usage and spend; a limits column that does not parse counts as none", () => {
  expect(usageOf(row({}))).toBeNull();
  expect(spentOf(row({ input_tokens: 5, cached_input_tokens: 1, output_tokens: 2, cost_usd: 0.1, turns: 3, run_ms: 40 }))).toEqual({
    usage: { inputTokens: 5, cachedInputTokens: 1, outputTokens: 2, costUsd: 0.1, turns: 3 },
    runMs: 40,
  });
  expect(limitsOf(row({ limits: limitsJson({ ...NO_LIMITS, maxTokens: 7 }) }))).toEqual({ ...NO_LIMITS, maxTokens: 7 });
  expect(limitsJson(NO_LIMITS)).toBeNull();
  for (const bad of ['{', '[]', '{"maxTokens":-1}', '{"maxTokens":"7"}', 'null']) expect(limitsOf(row({ limits: bad }))).toBeNull();
});

test("defaults, a call's own limits over them, and the refusal to continue a session at a limit", () => {
  const defaults = defaultLimits({ DEFAULT_MAX_COST_USD: 2, DEFAULT_MAX_TOKENS: undefined, DEFAULT_MAX_TURNS: 4, DEFAULT_MAX_DURATION_MS: undefined });
  expect(withLimits(defaults, { maxTokens: 9, maxTurns: 1 })).toEqual({ maxCostUsd: 2, maxTokens: 9, maxTurns: 1, maxDurationMs: null });
  const spent = row({ input_tokens: 6, output_tokens: 4, turns: 1 });
  expect(resumeRefusal(spent, { ...NO_LIMITS, maxTokens: 10 })).toBe('session sess has reached its budget: maxTokens 10 (spent 10). To continue it, pass session_send a higher limits.maxTokens.');
  expect(resumeRefusal(spent, { ...NO_LIMITS, maxTokens: 11 })).toBeNull();
  expect(resumeRefusal(spent, { ...NO_LIMITS, maxTurns: 1 })).toMatch(/maxTurns 1 \(taken 1\)/);
});
