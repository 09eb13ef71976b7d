/**
 * The supervisor ⇄ worker IPC contract, in one place. Frames are newline-
 * delimited JSON over the worker's Unix socket; every frame is parsed here, at
 * the socket edge, and nowhere else. Bump PROTOCOL_VERSION on any change that
 * an older peer would misread: a supervisor re-attaching to workers started
 * by a previous release must refuse, not misinterpret, them.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './framing';
import { Limits } from './constants';

// The framing (and the version) live in a zod-free module the worker can load cheaply.
export { FrameReader, MAX_FRAME_BYTES, PROTOCOL_VERSION, encodeFrame } from './framing';

export const AgentKind = z.enum(['claude-code', 'codex']);
export type AgentKind = z.infer<typeof AgentKind>;

/** running → killing → killed; running → exited; failed = the agent never started; lost = its worker died. */
export const SessionStatus = z.enum(['running', 'killing', 'exited', 'killed', 'failed', 'lost']);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const EndReason = z.enum([
  'exited', // the agent ended on its own
  'killed', // session_kill
  'idle_timeout', // IDLE_TIMEOUT passed with no output and no input
  'orphaned', // no supervisor for ORPHAN_TIMEOUT
  'spawn_failed', // the agent binary could not be started
  'shutdown', // an operator ended every session (stop --kill-sessions)
  'worker_lost', // the worker died without recording an outcome
  'interrupted', // session_send {interrupt: true} stopped the turn and the agent ended
]);
export type EndReason = z.infer<typeof EndReason>;

/** What a worker knows about its session; also the shape of its on-disk final record. */
export const WorkerState = z.object({
  sessionId: z.string(),
  status: SessionStatus,
  workerPid: z.number().int(),
  workerStartTime: z.string().nullable(),
  agentPid: z.number().int().nullable(),
  agentStartTime: z.string().nullable(),
  nextOffset: z.number().int().nonnegative(),
  lastOutputAt: z.string().nullable(),
  lastInputAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  endReason: EndReason.nullable(),
  completedSuccessfully: z.boolean().nullable(),
  /** The agent's own conversation id (Claude session id, Codex thread id) once it has said it. */
  agentSessionId: z.string().nullable(),
  /** One-line summary of a failure the agent reported (bad key, unreachable model …). */
  errorSummary: z.string().nullable(),
  /** The agent's last answer (Claude's result text, Codex's last message); defaulted for older workers. */
  finalAnswer: z.string().nullable().default(null),
  /** Why the worker cannot write this session's output to disk right now ("disk full"); null when it can. */
  outputNotPersisted: z.string().nullable().default(null),
  /** Tokens and cost of the agent's work so far (issue 14 item 5); null until the agent reports any, absent from older workers. */
  usage: z
    .object({
      inputTokens: z.number().int().nonnegative(),
      cachedInputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
      costUsd: z.number().nonnegative().nullable(),
      turns: z.number().int().nonnegative(),
    })
    .nullable()
    .optional(),
});
export type WorkerState = z.infer<typeof WorkerState>;

// ---- supervisor → worker -------------------------------------------------

const RequestBase = { id: z.number().int().nonnegative() };

export const HelloParams = z.object({ protocolVersion: z.number().int(), secret: z.string().min(16).max(256) });
export const ReadParams = z.object({
  since: z.number().int().nonnegative(),
  limit: z.number().int().positive(),
  maxBytes: z.number().int().positive(),
});
/**
 * inputId: agentvisor's own id of this input. idempotencyKey: the client's; the worker delivers
 * each key at most once and answers a repeat like the first (#12 item 4).
 */
export const SendParams = z.object({
  text: z.string(),
  raw: z.boolean(),
  inputId: z.string().min(1).max(128).optional(),
  idempotencyKey: z.string().min(1).max(Limits.maxIdempotencyKeyChars).optional(),
});
export const KillParams = z.object({ reason: EndReason });

export const SupervisorFrame = z.discriminatedUnion('method', [
  z.object({ ...RequestBase, method: z.literal('hello'), params: HelloParams }),
  z.object({ ...RequestBase, method: z.literal('read'), params: ReadParams }),
  z.object({ ...RequestBase, method: z.literal('send'), params: SendParams }),
  z.object({ ...RequestBase, method: z.literal('kill'), params: KillParams }),
  /** Stop the agent's current turn, keeping the conversation resumable. */
  z.object({ ...RequestBase, method: z.literal('interrupt'), params: z.object({}) }),
  z.object({ ...RequestBase, method: z.literal('state'), params: z.object({}) }),
  /** The supervisor has journalled the final state; the worker may exit. */
  z.object({ ...RequestBase, method: z.literal('ackExit'), params: z.object({}) }),
]);
export type SupervisorFrame = z.infer<typeof SupervisorFrame>;
export type Method = SupervisorFrame['method'];
export type ParamsOf<M extends Method> = Extract<SupervisorFrame, { method: M }>['params'];

export const ReadResultSchema = z.object({
  lines: z.array(z.string()),
  offset: z.number().int(),
  nextOffset: z.number().int(),
  dropped: z.number().int(),
  hasMore: z.boolean(),
});
/** inputId: the id of the delivery that took the input (a repeat's is the first one's); duplicate: a repeated key, not delivered again. */
export const SendResult = z.object({
  delivered: z.boolean(),
  queued: z.boolean(),
  /** Codex over app-server: the message joined the turn in progress (turn/steer) instead of waiting for the next. */
  steered: z.boolean().optional(),
  note: z.string().optional(),
  inputId: z.string().optional(),
  duplicate: z.boolean().optional(),
});

/** Result schema per method, checked when a response arrives. */
export const ResultSchemas = {
  hello: WorkerState,
  read: ReadResultSchema,
  send: SendResult,
  kill: WorkerState,
  interrupt: WorkerState,
  state: WorkerState,
  ackExit: z.object({}),
} satisfies Record<Method, z.ZodType>;
export type ResultOf<M extends Method> = z.infer<(typeof ResultSchemas)[M]>;

// ---- worker → supervisor -------------------------------------------------

export const ErrorCode = z.enum(['bad_request', 'unauthorized', 'version_mismatch', 'session_ended', 'internal']);
export type ErrorCode = z.infer<typeof ErrorCode>;

// Order matters: a union takes the first branch that fits, and `result: unknown`
// would also fit an error or event frame.
export const WorkerFrame = z.union([
  /** Coalesced: at most one per event-loop turn, carrying the newest offset. */
  z.object({ event: z.literal('output'), nextOffset: z.number().int(), lastOutputAt: z.string() }),
  z.object({ event: z.literal('state'), state: WorkerState }),
  z.object({ id: z.number().int(), error: z.object({ code: ErrorCode, message: z.string() }) }),
  z.object({ id: z.number().int(), result: z.unknown() }),
]);
export type WorkerFrame = z.infer<typeof WorkerFrame>;

// ---- the worker's launch spec ----------------------------------------------

export const AgentMode = z.enum(['full', 'edit', 'plan']);
export type AgentMode = z.infer<typeof AgentMode>;

/**
 * Everything a worker needs, written by the supervisor to `<sessionDir>/spec.json`
 * (0600) and passed by path: argv stays free of secrets and of client text.
 */
export const WorkerSpec = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  sessionId: z.string(),
  agent: AgentKind,
  /** Absolute path of the agent binary, resolved by the supervisor. */
  agentBin: z.string(),
  cwd: z.string(),
  /** The cwd's device + inode as checked by the supervisor; the worker starts agents only in that directory (null: spec from before it was recorded). */
  cwdIdentity: z.object({ dev: z.string().regex(/^\d+$/), ino: z.string().regex(/^\d+$/) }).nullable().default(null),
  task: z.string(),
  model: z.string().nullable(),
  mode: AgentMode,
  /** The agent's complete environment (whitelist + CHILD_ENV_* + per-session env). */
  env: z.record(z.string(), z.string()),
  sessionDir: z.string(),
  socketPath: z.string(),
  secret: z.string(),
  /** How a Codex session talks to its CLI (issue 14): JSON-RPC to `codex app-server`, or `codex exec` under a PTY (also when absent: specs from before). Kept on resume. */
  codexProtocol: z.enum(['app-server', 'exec']).optional(),
  /** Set when an ended session is continued: resume this agent conversation with this message. */
  resume: z.object({ agentSessionId: z.string(), message: z.string() }).nullable(),
  idleTimeoutMs: z.number().int().positive(),
  killGraceMs: z.number().int().positive(),
  orphanTimeoutMs: z.number().int().positive(),
  exitAckMs: z.number().int().positive(),
  outputFlushMs: z.number().int().positive(),
  partialLineFlushMs: z.number().int().nonnegative(),
  ringLines: z.number().int().positive(),
  maxLineChars: z.number().int().positive(),
  logLevel: z.string(),
});
export type WorkerSpec = z.infer<typeof WorkerSpec>;

/** Which protocol a session's worker speaks to its agent (the worker's driver), as session info reports it. */
export function sessionProtocol(spec: Pick<WorkerSpec, 'agent' | 'codexProtocol'>): 'claude' | 'codex-app-server' | 'codex-exec' {
  if (spec.agent === 'claude-code') return 'claude';
  return spec.codexProtocol === 'app-server' ? 'codex-app-server' : 'codex-exec';
}
