/**
 * The worker checks frames and its spec by hand (worker/frameCheck.ts) so it
 * need not load zod; these tests hold those checks to the zod schemas of
 * shared/protocol.ts, which remain the contract.
 */
import { SupervisorFrame, WorkerSpec } from '../../src/shared/protocol';
import { checkSupervisorFrame, parseWorkerSpec } from '../../src/worker/frameCheck';

const secret = 's'.repeat(32);
const frames: unknown[] = [
  { id: 0, method: 'hello', params: { protocolVersion: 1, secret } },
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
  // invalid
  null,
  undefined,
  'state',
  [],
  { id: 1, method: 'exec', params: {} },
  { id: 1, method: 'toString', params: {} },
  { method: 'state', params: {} },
  { id: -1, method: 'state', params: {} },
  { id: 1.5, method: 'state', params: {} },
  { id: '1', method: 'state', params: {} },
  { id: 1, method: 'hello', params: { protocolVersion: 1, secret: 'short' } },
  { id: 1, method: 'hello', params: { protocolVersion: 1, secret: 'x'.repeat(257) } },
  { id: 1, method: 'hello', params: { protocolVersion: '1', secret } },
  { id: 1, method: 'read', params: { since: -1, limit: 1, maxBytes: 1 } },
  { id: 1, method: 'read', params: { since: 0, limit: 0, maxBytes: 1 } },
  { id: 1, method: 'read', params: { since: '0', limit: 1, maxBytes: 1 } },
  { id: 1, method: 'read', params: { since: 0, limit: 1 } },
  { id: 1, method: 'read', params: { since: 0.5, limit: 1, maxBytes: 1 } },
  { id: 1, method: 'send', params: { text: 5, raw: false } },
  { id: 1, method: 'send', params: { text: 'x', raw: 'yes' } },
  { id: 1, method: 'send', params: { text: 'x', raw: false, idempotencyKey: '' } },
  { id: 1, method: 'send', params: { text: 'x', raw: false, idempotencyKey: 'k'.repeat(201) } },
  { id: 1, method: 'send', params: { text: 'x', raw: false, idempotencyKey: 7 } },
  { id: 1, method: 'send', params: { text: 'x', raw: false, inputId: '' } },
  { id: 1, method: 'kill', params: { reason: 'because' } },
  { id: 1, method: 'state' },
  { id: 1, method: 'state', params: null },
  { id: 1, method: 'state', params: [] },
];

describe('checkSupervisorFrame agrees with the SupervisorFrame schema', () => {
  test.each(frames.map((f) => [JSON.stringify(f) ?? String(f), f]))('%s', (_name, frame) => {
    const zod = SupervisorFrame.safeParse(frame);
    const hand = checkSupervisorFrame(frame);
    expect(hand.success).toBe(zod.success);
    if (!hand.success) expect(hand.error.issues[0]?.message).toEqual(expect.any(String));
  });
});

const spec = {
  protocolVersion: 1,
  sessionId: 'abc',
  agent: 'codex',
  agentBin: '/usr/bin/codex',
  cwd: '/tmp/ws',
  task: 'do it',
  model: null,
  mode: 'full',
  env: { PATH: '/usr/bin', HOME: '/root' },
  sessionDir: '/tmp/state/sessions/abc',
  socketPath: '/tmp/state/sock/abc.sock',
  secret,
  resume: null,
  idleTimeoutMs: 1000,
  killGraceMs: 1000,
  orphanTimeoutMs: 1000,
  exitAckMs: 1000,
  outputFlushMs: 25,
  partialLineFlushMs: 0,
  ringLines: 100,
  maxLineChars: 100,
  logLevel: 'info',
};

describe('parseWorkerSpec agrees with the WorkerSpec schema', () => {
  const variants: Array<[string, Record<string, unknown>]> = [
    ['valid', {}],
    ['with resume', { resume: { agentSessionId: 'x', message: 'go on' } }],
    ['with model', { model: 'gpt' }],
    ['with cwd identity', { cwdIdentity: { dev: '2049', ino: '18446744073709551615' } }],
    ['cwd identity not decimal', { cwdIdentity: { dev: '0x801', ino: '12' } }],
    ['cwd identity a number', { cwdIdentity: { dev: 2049, ino: 12 } }],
    ['claude in plan mode', { agent: 'claude-code', mode: 'plan' }],
    ['wrong version', { protocolVersion: 2 }],
    ['unknown agent', { agent: 'gemini' }],
    ['unknown mode', { mode: 'yolo' }],
    ['env value not a string', { env: { A: 1 } }],
    ['resume without message', { resume: { agentSessionId: 'x' } }],
    ['zero flush interval', { outputFlushMs: 0 }],
    ['negative partial flush', { partialLineFlushMs: -1 }],
    ['missing secret', { secret: undefined }],
    ['ring lines a string', { ringLines: '100' }],
  ];
  test.each(variants)('%s', (_name, change) => {
    const raw = JSON.parse(JSON.stringify({ ...spec, ...change }));
    const zod = WorkerSpec.safeParse(raw);
    let hand: unknown;
    let error: unknown;
    try {
      hand = parseWorkerSpec(JSON.parse(JSON.stringify(raw)));
    } catch (err) {
      error = err;
    }
    expect(error === undefined).toBe(zod.success);
    if (zod.success) expect(hand).toEqual(zod.data);
  });
});
