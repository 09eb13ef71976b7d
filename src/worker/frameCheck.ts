/**
 * The worker's checks of what it reads: supervisor frames and its launch spec.
 * They mirror the zod schemas of shared/protocol.ts, which stay the contract
 * (the supervisor parses with them), without loading zod: zod costs a worker
 * ~150 ms of start-up and ~10 MB resident, per session. The tables below are
 * typed against the protocol's types, so a method, parameter, spec field or
 * enum value added there and not here fails to compile.
 */
import { Limits } from '../shared/constants';
import { PROTOCOL_VERSION } from '../shared/framing';
import type { AgentKind, AgentMode, EndReason, Method, ParamsOf, SupervisorFrame, WorkerSpec } from '../shared/protocol';

/** null when `v` is acceptable, else what is wrong with it. */
type Check = (v: unknown) => string | null;
/** A field's check, optionally with the value to use when the field is absent. */
type Field = Check | { check: Check; default: unknown };
/** One check for every key of T, no more, no fewer. */
type Shape<T> = { [K in keyof T]-?: Field };

/** The literal list must name every member of T, or the call does not compile. */
const every =
  <T extends string>() =>
  <const A extends readonly T[]>(values: A & ([Exclude<T, A[number]>] extends [never] ? unknown : { missing: Exclude<T, A[number]> })): A =>
    values;

const END_REASONS = every<EndReason>()(['exited', 'killed', 'idle_timeout', 'orphaned', 'spawn_failed', 'shutdown', 'worker_lost', 'interrupted']);
const AGENT_KINDS = every<AgentKind>()(['claude-code', 'codex']);
const AGENT_MODES = every<AgentMode>()(['full', 'edit', 'plan']);

const int =
  (min = -Infinity): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min ? null : `expected an integer${min > -Infinity ? ` >= ${min}` : ''}`;
const str =
  (min = 0, max = Infinity): Check =>
  (v) =>
    typeof v === 'string' && v.length >= min && v.length <= max ? null : `expected a string of ${min}–${max} characters`;
const digits: Check = (v) => (typeof v === 'string' && /^\d+$/.test(v) ? null : 'expected a decimal number as a string');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'expected a boolean');
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? null : `expected one of ${values.join(', ')}`;
const nullable =
  (c: Check): Check =>
  (v) =>
    v === null ? null : c(v);
const optional =
  (c: Check): Check =>
  (v) =>
    v === undefined ? null : c(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const record =
  (c: Check): Check =>
  (v) => {
    if (!isObject(v)) return 'expected an object';
    for (const [k, x] of Object.entries(v)) {
      const e = c(x);
      if (e) return `${k}: ${e}`;
    }
    return null;
  };

/** Checks `v` against `shape`, filling in defaults (in place); unknown keys are ignored, as zod does. */
function checkObject(v: unknown, shape: Record<string, Field>): string | null {
  if (!isObject(v)) return 'expected an object';
  for (const [key, field] of Object.entries(shape)) {
    if (typeof field !== 'function') {
      if (v[key] === undefined) v[key] = field.default;
      else {
        const e = field.check(v[key]);
        if (e) return `${key}: ${e}`;
      }
      continue;
    }
    const e = field(v[key]);
    if (e) return `${key}: ${e}`;
  }
  return null;
}
const object =
  (shape: Record<string, Field>): Check =>
  (v) =>
    checkObject(v, shape);

const PARAMS: { [M in Method]: Shape<ParamsOf<M>> } = {
  hello: { protocolVersion: int(), secret: str(16, 256) },
  read: { since: int(0), limit: int(1), maxBytes: int(1) },
  send: { text: str(), raw: bool, inputId: optional(str(1, 128)), idempotencyKey: optional(str(1, Limits.maxIdempotencyKeyChars)) },
  kill: { reason: oneOf(END_REASONS) },
  interrupt: {},
  state: {},
  ackExit: {},
};

export type CheckResult<T> = { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } };

const failed = (message: string): CheckResult<never> => ({ success: false, error: { issues: [{ message }] } });

/** A frame from the supervisor, checked like protocol.ts's SupervisorFrame (same result shape as zod's safeParse). */
export function checkSupervisorFrame(raw: unknown): CheckResult<SupervisorFrame> {
  if (!isObject(raw)) return failed('expected an object');
  const idError = int(0)(raw.id);
  if (idError) return failed(`id: ${idError}`);
  const method = raw.method;
  if (typeof method !== 'string' || !Object.prototype.hasOwnProperty.call(PARAMS, method)) {
    return failed(`method: expected one of ${Object.keys(PARAMS).join(', ')}`);
  }
  const e = checkObject(raw.params, PARAMS[method as Method]);
  if (e) return failed(`params: ${e}`);
  return { success: true, data: raw as unknown as SupervisorFrame };
}

const SPEC: Shape<WorkerSpec> = {
  protocolVersion: (v) => (v === PROTOCOL_VERSION ? null : `expected ${PROTOCOL_VERSION}`),
  sessionId: str(),
  agent: oneOf(AGENT_KINDS),
  agentBin: str(),
  cwd: str(),
  cwdIdentity: { check: nullable(object({ dev: digits, ino: digits })), default: null },
  task: str(),
  model: nullable(str()),
  mode: oneOf(AGENT_MODES),
  env: record(str()),
  sessionDir: str(),
  socketPath: str(),
  secret: str(),
  codexProtocol: optional(oneOf(['app-server', 'exec'] as const)),
  resume: nullable(object({ agentSessionId: str(), message: str() } satisfies Shape<NonNullable<WorkerSpec['resume']>>)),
  idleTimeoutMs: int(1),
  killGraceMs: int(1),
  orphanTimeoutMs: int(1),
  exitAckMs: int(1),
  outputFlushMs: int(1),
  partialLineFlushMs: int(0),
  ringLines: int(1),
  maxLineChars: int(1),
  logLevel: str(),
};

/** The launch spec, checked like protocol.ts's WorkerSpec; throws naming the first bad field. */
export function parseWorkerSpec(raw: unknown): WorkerSpec {
  const e = checkObject(raw, SPEC);
  if (e) throw new Error(`invalid worker spec: ${e}`);
  return raw as WorkerSpec;
}
