/**
 * The worker contract (shared/protocol.ts) is one definition, checked by the
 * zod-free validator of shared/validate.ts on both sides of the socket. These
 * are the cases the worker's former hand-written twin (frameCheck.ts) was held
 * to, now with the expected outcome written down, plus the spec and the ready
 * line, and errors that name the field.
 */
import { ContractError, SupervisorFrame, WorkerReady, WorkerSpec, WorkerState } from '../../src/shared/protocol';
import { wireSpec } from '../support/workerSpec';

const secret = 's'.repeat(32);
const validFrames: unknown[] = [
  { id: 0, method: 'hello', params: { protocolVersion: 1, secret } },
  // A wrong version is well-formed: the worker answers it with version_mismatch.
  { id: 0, method: 'hello', params: { protocolVersion: 2, secret } },
  { id: 1, method: 'read', params: { since: 0, limit: 100, maxBytes: 65536 } },
  { id: 2, method: 'send', params: { text: 'hello\n', raw: false } },
  { id: 2, method: 'send', params: { text: 'hello\n', raw: false, inputId: 'i-1', idempotencyKey: 'k'.repeat(200) } },
  { id: 3, method: 'kill', params: { reason: 'killed' } },
  { id: 3, method: 'kill', params: { reason: 'interrupted' } },
  { id: 4, method: 'state', params: {} },
  { id: 4, method: 'interrupt', params: {} },
  { id: 5, method: 'ackExit', params: {} },
  { id: 6, method: 'state', params: {}, extra: true },
];
const invalidFrames: Array<[unknown, string]> = [
  [null, 'expected an object'],
  [undefined, 'expected an object'],
  ['state', 'expected an object'],
  [[], 'expected an object'],
  [{ id: 1, method: 'exec', params: {} }, 'method: expected one of hello, read, send, kill, interrupt, state, ackExit'],
  [{ id: 1, method: 'toString', params: {} }, 'method: expected one of'],
  [{ method: 'state', params: {} }, 'id: expected an integer >= 0'],
  [{ id: -1, method: 'state', params: {} }, 'id: expected an integer >= 0'],
  [{ id: 1.5, method: 'state', params: {} }, 'id: expected an integer >= 0'],
  [{ id: '1', method: 'state', params: {} }, 'id: expected an integer >= 0'],
  [{ id: 1, method: 'hello', params: { protocolVersion: 1, secret: 'short' } }, 'params.secret: expected 16–256 characters, got 5'],
  [{ id: 1, method: 'hello', params: { protocolVersion: 1, secret: 'x'.repeat(257) } }, 'params.secret: expected 16–256 characters'],
  [{ id: 1, method: 'hello', params: { protocolVersion: '1', secret } }, 'params.protocolVersion: expected an integer'],
  [{ id: 1, method: 'read', params: { since: -1, limit: 1, maxBytes: 1 } }, 'params.since: expected an integer >= 0'],
  [{ id: 1, method: 'read', params: { since: 0, limit: 0, maxBytes: 1 } }, 'params.limit: expected an integer >= 1'],
  [{ id: 1, method: 'read', params: { since: '0', limit: 1, maxBytes: 1 } }, 'params.since: expected an integer'],
  [{ id: 1, method: 'read', params: { since: 0, limit: 1 } }, 'params.maxBytes: expected an integer >= 1'],
  [{ id: 1, method: 'read', params: { since: 0.5, limit: 1, maxBytes: 1 } }, 'params.since: expected an integer'],
  [{ id: 1, method: 'send', params: { text: 5, raw: false } }, 'params.text: expected a string'],
  [{ id: 1, method: 'send', params: { text: 'x', raw: 'yes' } }, 'params.raw: expected a boolean'],
  [{ id: 1, method: 'send', params: { text: 'x', raw: false, idempotencyKey: '' } }, 'params.idempotencyKey: expected 1–200 characters, got 0'],
  [{ id: 1, method: 'send', params: { text: 'x', raw: false, idempotencyKey: 'k'.repeat(201) } }, 'params.idempotencyKey: expected 1–200 characters'],
  [{ id: 1, method: 'send', params: { text: 'x', raw: false, idempotencyKey: 7 } }, 'params.idempotencyKey: expected a string'],
  [{ id: 1, method: 'send', params: { text: 'x', raw: false, inputId: '' } }, 'params.inputId: expected 1–128 characters'],
  [{ id: 1, method: 'kill', params: { reason: 'because' } }, 'params.reason: expected one of exited, killed'],
  [{ id: 1, method: 'state' }, 'params: expected an object'],
  [{ id: 1, method: 'state', params: null }, 'params: expected an object'],
  [{ id: 1, method: 'state', params: [] }, 'params: expected an object'],
];

describe('SupervisorFrame', () => {
  test.each(validFrames.map((f) => [JSON.stringify(f), f]))('accepts %s', (_name, frame) => {
    const parsed = SupervisorFrame.safeParse(frame);
    expect(parsed.error).toBeUndefined();
    // Unknown keys are dropped, as zod did: the worker acts on nothing it did not check.
    const { extra: _extra, ...known } = frame as Record<string, unknown>;
    expect(parsed.data).toEqual(known);
    expect(parsed.data).not.toHaveProperty('extra');
  });

  test.each(invalidFrames.map(([f, why]) => [JSON.stringify(f) ?? String(f), f, why]))('refuses %s, naming the field', (_name, frame, why) => {
    const parsed = SupervisorFrame.safeParse(frame);
    expect(parsed.success).toBe(false);
    expect(parsed.error).toBeInstanceOf(ContractError);
    expect(parsed.error?.message.startsWith(why as string)).toBe(true);
  });
});

const spec = wireSpec();

describe('WorkerSpec', () => {
  const valid: Array<[string, Record<string, unknown>]> = [
    ['valid', {}],
    ['with resume', { resume: { agentSessionId: 'x', message: 'go on' } }],
    ['with model', { model: 'gpt' }],
    ['with cwd identity', { cwdIdentity: { dev: '2049', ino: '18446744073709551615' } }],
    ['claude in plan mode', { agent: 'claude-code', mode: 'plan' }],
  ];
  test.each(valid)('accepts: %s', (_name, change) => {
    const raw = JSON.parse(JSON.stringify({ ...spec, ...change }));
    // A spec without cwdIdentity (from before it was recorded) gets null; one from before issues 15-19 gets their defaults.
    const later = {
      instructions: null,
      approvals: { allowTools: [], allowCommandPrefixes: [], timeoutMs: 900_000 },
      limits: { maxCostUsd: null, maxTokens: null, maxTurns: null, maxDurationMs: null },
      sandbox: 'none',
      confinement: null,
    };
    expect(WorkerSpec.parse(raw, 'invalid worker spec')).toEqual({ cwdIdentity: null, ...later, ...raw });
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['cwd identity not decimal', { cwdIdentity: { dev: '0x801', ino: '12' } }, 'cwdIdentity.dev: expected a string matching'],
    ['cwd identity a number', { cwdIdentity: { dev: 2049, ino: 12 } }, 'cwdIdentity.dev: expected a string'],
    ['wrong version', { protocolVersion: 2 }, 'protocolVersion: expected 1'],
    ['unknown agent', { agent: 'gemini' }, 'agent: expected one of claude-code, codex'],
    ['unknown mode', { mode: 'yolo' }, 'mode: expected one of full, edit, plan'],
    ['env value not a string', { env: { A: 1 } }, 'env.A: expected a string'],
    ['resume without message', { resume: { agentSessionId: 'x' } }, 'resume.message: expected a string'],
    ['zero flush interval', { outputFlushMs: 0 }, 'outputFlushMs: expected an integer >= 1'],
    ['negative partial flush', { partialLineFlushMs: -1 }, 'partialLineFlushMs: expected an integer >= 0'],
    ['missing secret', { secret: undefined }, 'secret: expected a string'],
    ['ring lines a string', { ringLines: '100' }, 'ringLines: expected an integer >= 1'],
  ];
  test.each(invalid)('refuses: %s, naming the field', (_name, change, why) => {
    const raw = JSON.parse(JSON.stringify({ ...spec, ...change }));
    expect(() => WorkerSpec.parse(raw, 'invalid worker spec')).toThrow(`invalid worker spec: ${why}`);
  });
});

describe('WorkerReady', () => {
  test('the ready line parses', () => {
    expect(WorkerReady.parse({ pid: 42, startTime: '123' })).toEqual({ pid: 42, startTime: '123' });
    expect(WorkerReady.parse({ pid: 42, startTime: null })).toEqual({ pid: 42, startTime: null });
  });
  test.each([
    [{ pid: 0, startTime: null }, 'pid: expected an integer >= 1'],
    [{ pid: '42', startTime: null }, 'pid: expected an integer >= 1'],
    [{ pid: 42 }, 'startTime: expected a string'],
    [null, 'expected an object'],
  ])('a malformed ready line %j is refused: %s', (line, why) => {
    expect(() => WorkerReady.parse(line)).toThrow(why);
  });
});

describe('WorkerState usage', () => {
  const state = {
    sessionId: 's1',
    status: 'running',
    workerPid: 10,
    workerStartTime: null,
    agentPid: 11,
    agentStartTime: null,
    nextOffset: 0,
    lastOutputAt: null,
    lastInputAt: null,
    endedAt: null,
    exitCode: null,
    signal: null,
    endReason: null,
    completedSuccessfully: null,
    agentSessionId: null,
    errorSummary: null,
    finalAnswer: null,
    outputNotPersisted: null,
  };
  const usage = { inputTokens: 10, cachedInputTokens: 2, outputTokens: 5, costUsd: 0.0125, turns: 1 };

  test('absent (an older worker), null, or whole', () => {
    expect(WorkerState.parse(state)).not.toHaveProperty('usage');
    expect(WorkerState.parse({ ...state, usage: null }).usage).toBeNull();
    expect(WorkerState.parse({ ...state, usage }).usage).toEqual(usage);
    expect(WorkerState.parse({ ...state, usage: { ...usage, costUsd: null } }).usage?.costUsd).toBeNull();
  });
  test.each([
    [{ ...usage, costUsd: -1 }, 'usage.costUsd: expected a number >= 0'],
    [{ ...usage, turns: 1.5 }, 'usage.turns: expected an integer >= 0'],
    [{ ...usage, inputTokens: undefined }, 'usage.inputTokens: expected an integer >= 0'],
  ])('a malformed usage %j is refused: %s', (bad, why) => {
    expect(() => WorkerState.parse({ ...state, usage: bad })).toThrow(why);
  });
});
