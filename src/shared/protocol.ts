/**
 * The supervisor ⇄ worker contract, in one place: socket frames both ways, the
 * worker's launch spec, its ready line and its final record. Frames are newline-
 * delimited JSON over the worker's Unix socket. Each side parses what it reads
 * with these validators, once, at its edge (the worker: frames and spec; the
 * supervisor: frames, ready line, final.json, spec on resume). No zod here: the
 * worker loads this file (see validate.ts). Bump PROTOCOL_VERSION on any change
 * that an older peer would misread: a supervisor re-attaching to workers started
 * by a previous release must refuse, not misinterpret, them.
 */
import { Limits } from './constants';
import { PROTOCOL_VERSION } from './framing';
import { type Infer, type Validator, arrayOf, bool, byKey, int, literal, nullable, num, obj, oneOf, optional, present, recordOf, str, tagged, withDefault } from './validate';

export { FrameReader, MAX_FRAME_BYTES, PROTOCOL_VERSION, encodeFrame } from './framing';
export { ContractError } from './validate';

export const AgentKind = oneOf(['claude-code', 'codex']);
export type AgentKind = Infer<typeof AgentKind>;

/** running → killing → killed; running → exited; failed = the agent never started; lost = its worker died. */
export const SessionStatus = oneOf(['running', 'killing', 'exited', 'killed', 'failed', 'lost']);
export type SessionStatus = Infer<typeof SessionStatus>;

export const EndReason = oneOf([
  'exited', // the agent ended on its own
  'killed', // session_kill
  'idle_timeout', // IDLE_TIMEOUT passed with no output and no input
  'orphaned', // no supervisor for ORPHAN_TIMEOUT
  'spawn_failed', // the agent binary could not be started
  'shutdown', // an operator ended every session (stop --kill-sessions)
  'worker_lost', // the worker died without recording an outcome
  'interrupted', // session_send {interrupt: true} stopped the turn and the agent ended
]);
export type EndReason = Infer<typeof EndReason>;

/** What a worker knows about its session; also the shape of its on-disk final record. */
export const WorkerState = obj({
  sessionId: str(),
  status: SessionStatus,
  workerPid: int(),
  workerStartTime: nullable(str()),
  agentPid: nullable(int()),
  agentStartTime: nullable(str()),
  nextOffset: int({ min: 0 }),
  lastOutputAt: nullable(str()),
  lastInputAt: nullable(str()),
  endedAt: nullable(str()),
  exitCode: nullable(int()),
  signal: nullable(str()),
  endReason: nullable(EndReason),
  completedSuccessfully: nullable(bool()),
  /** The agent's own conversation id (Claude session id, Codex thread id) once it has said it. */
  agentSessionId: nullable(str()),
  /** One-line summary of a failure the agent reported (bad key, unreachable model …). */
  errorSummary: nullable(str()),
  /** The agent's last answer (Claude's result text, Codex's last message); defaulted for older workers. */
  finalAnswer: withDefault(nullable(str()), null),
  /** Why the worker cannot write this session's output to disk right now ("disk full"); null when it can. */
  outputNotPersisted: withDefault(nullable(str()), null),
  /** Tokens and cost of the agent's work so far (issue 14 item 5); null until the agent reports any, absent from older workers. */
  usage: optional(
    nullable(
      obj({
        inputTokens: int({ min: 0 }),
        cachedInputTokens: int({ min: 0 }),
        outputTokens: int({ min: 0 }),
        costUsd: nullable(num({ min: 0 })),
        turns: int({ min: 0 }),
      }),
    ),
  ),
});
export type WorkerState = Infer<typeof WorkerState>;

/** The line a worker writes on fd 3 once its socket listens: the launcher's proof it is up. */
export const WorkerReady = obj({ pid: int({ min: 1 }), startTime: nullable(str()) });
export type WorkerReady = Infer<typeof WorkerReady>;

// ---- supervisor → worker -------------------------------------------------

const id = int({ min: 0 });
const noParams = obj({});

export const HelloParams = obj({ protocolVersion: int(), secret: str({ min: 16, max: 256 }) });
export const ReadParams = obj({ since: int({ min: 0 }), limit: int({ min: 1 }), maxBytes: int({ min: 1 }) });
/**
 * inputId: agentvisor's own id of this input. idempotencyKey: the client's; the worker delivers
 * each key at most once and answers a repeat like the first (#12 item 4).
 */
export const SendParams = obj({
  text: str(),
  raw: bool(),
  inputId: optional(str({ min: 1, max: 128 })),
  idempotencyKey: optional(str({ min: 1, max: Limits.maxIdempotencyKeyChars })),
});
export const KillParams = obj({ reason: EndReason });

export const SupervisorFrame = tagged('method', {
  hello: obj({ id, params: HelloParams }),
  read: obj({ id, params: ReadParams }),
  send: obj({ id, params: SendParams }),
  kill: obj({ id, params: KillParams }),
  /** Stop the agent's current turn, keeping the conversation resumable. */
  interrupt: obj({ id, params: noParams }),
  state: obj({ id, params: noParams }),
  /** The supervisor has journalled the final state; the worker may exit. */
  ackExit: obj({ id, params: noParams }),
});
export type SupervisorFrame = Infer<typeof SupervisorFrame>;
export type Method = SupervisorFrame['method'];
export type ParamsOf<M extends Method> = Extract<SupervisorFrame, { method: M }>['params'];

export const ReadResultSchema = obj({
  lines: arrayOf(str()),
  offset: int(),
  nextOffset: int(),
  dropped: int(),
  hasMore: bool(),
});
/** inputId: the id of the delivery that took the input (a repeat's is the first one's); duplicate: a repeated key, not delivered again. */
export const SendResult = obj({
  delivered: bool(),
  queued: bool(),
  /** Codex over app-server: the message joined the turn in progress (turn/steer) instead of waiting for the next. */
  steered: optional(bool()),
  note: optional(str()),
  inputId: optional(str()),
  duplicate: optional(bool()),
});

/** Result validator per method, checked when a response arrives. */
export const ResultSchemas = {
  hello: WorkerState,
  read: ReadResultSchema,
  send: SendResult,
  kill: WorkerState,
  interrupt: WorkerState,
  state: WorkerState,
  ackExit: noParams,
} satisfies Record<Method, Validator<unknown>>;
export type ResultOf<M extends Method> = Infer<(typeof ResultSchemas)[M]>;

// ---- worker → supervisor -------------------------------------------------

export const ErrorCode = oneOf(['bad_request', 'unauthorized', 'version_mismatch', 'session_ended', 'internal']);
export type ErrorCode = Infer<typeof ErrorCode>;

/**
 * The lines an output event carries (those since the previous event), when they fit
 * these bounds: a waiting client is then answered without a read round trip to the
 * worker. Fixed, not a setting: a burst bigger than this is what `read` is for.
 */
export const OUTPUT_TAIL = { lines: 64, chars: 16_384 } as const;
export const OutputTail = obj({ offset: int({ min: 0 }), lines: arrayOf(str()) });
export type OutputTail = Infer<typeof OutputTail>;

// The frame's kind is told by its keys (event, error, else result), so a frame is
// checked against its one alternative: trying each in turn built an error (with a
// stack) per miss, a measurable share of the supervisor's time at 1,000 events/s.
export const WorkerFrame = byKey([
  [
    'event',
    tagged('event', {
      /** Coalesced: at most one per event-loop turn, carrying the newest offset (and, when small, the new lines). */
      output: obj({ nextOffset: int(), lastOutputAt: str(), tail: optional(OutputTail) }),
      state: obj({ state: WorkerState }),
    }),
  ],
  ['error', obj({ id: int(), error: obj({ code: ErrorCode, message: str() }) })],
  ['id', obj({ id: int(), result: present() })],
]);
export type WorkerFrame = Infer<typeof WorkerFrame>;

// ---- the worker's launch spec ----------------------------------------------

export const AgentMode = oneOf(['full', 'edit', 'plan']);
export type AgentMode = Infer<typeof AgentMode>;

const decimal = str({ pattern: /^\d+$/ });
const positiveInt = int({ min: 1 });

/**
 * Everything a worker needs, written by the supervisor to `<sessionDir>/spec.json`
 * (0600) and passed by path: argv stays free of secrets and of client text.
 */
export const WorkerSpec = obj({
  protocolVersion: literal(PROTOCOL_VERSION),
  sessionId: str(),
  agent: AgentKind,
  /** Absolute path of the agent binary, resolved by the supervisor. */
  agentBin: str(),
  cwd: str(),
  /** The cwd's device + inode as checked by the supervisor; the worker starts agents only in that directory (null: spec from before it was recorded). */
  cwdIdentity: withDefault(nullable(obj({ dev: decimal, ino: decimal })), null),
  task: str(),
  model: nullable(str()),
  mode: AgentMode,
  /** The agent's complete environment (whitelist + CHILD_ENV_* + per-session env). */
  env: recordOf(str()),
  sessionDir: str(),
  socketPath: str(),
  secret: str(),
  /** How a Codex session talks to its CLI (issue 14): JSON-RPC to `codex app-server`, or `codex exec` under a PTY (also when absent: specs from before). Kept on resume. */
  codexProtocol: optional(oneOf(['app-server', 'exec'])),
  /** Set when an ended session is continued: resume this agent conversation with this message. */
  resume: nullable(obj({ agentSessionId: str(), message: str() })),
  idleTimeoutMs: positiveInt,
  killGraceMs: positiveInt,
  orphanTimeoutMs: positiveInt,
  exitAckMs: positiveInt,
  outputFlushMs: positiveInt,
  partialLineFlushMs: int({ min: 0 }),
  ringLines: positiveInt,
  maxLineChars: positiveInt,
  logLevel: str(),
});
export type WorkerSpec = Infer<typeof WorkerSpec>;

/** Which protocol a session's worker speaks to its agent (the worker's driver), as session info reports it. */
export function sessionProtocol(spec: Pick<WorkerSpec, 'agent' | 'codexProtocol'>): 'claude' | 'codex-app-server' | 'codex-exec' {
  if (spec.agent === 'claude-code') return 'claude';
  return spec.codexProtocol === 'app-server' ? 'codex-app-server' : 'codex-exec';
}
