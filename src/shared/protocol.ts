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
  'budget_exceeded', // a limit of the session's `limits` (cost, tokens, turns, wall time) was reached (issue 18)
]);
export type EndReason = Infer<typeof EndReason>;

// ---- approvals (issue 15) ----------------------------------------------------

export const ApprovalKind = oneOf(['command', 'file_change', 'tool', 'permissions']);
export type ApprovalKind = Infer<typeof ApprovalKind>;
export const ApprovalDecision = oneOf(['allow', 'allow_for_session', 'deny']);
export type ApprovalDecision = Infer<typeof ApprovalDecision>;

/** A permission request the agent waits on, as the worker holds it (and reports it on re-attach). */
export const PendingApproval = obj({
  /** Unique within the session, chosen by the worker; what session_approve names. */
  approvalId: str({ min: 1, max: 128 }),
  kind: ApprovalKind,
  /** One line for a person: `Bash: npm test`, `Write src/a.ts`, `apply_patch: 3 files`. */
  summary: str(),
  /** The agent's request itself, bounded by the worker. */
  request: present(),
  /** The decisions this request may be answered with. */
  decisions: arrayOf(ApprovalDecision),
  createdAt: str(),
});
export type PendingApproval = Infer<typeof PendingApproval>;

/**
 * How a pending approval ended. decidedBy: `connection:<id>` (an MCP client), `cli`, `ui`, `rule`,
 * `timeout` (APPROVAL_TIMEOUT, a deny), `agent` (the agent withdrew it: its turn or process ended),
 * `limit` (denied at once: too many already waiting, worker/approvals.ts MAX_PENDING).
 * A worker's crash is not reported here: the supervisor marks that worker's pending ones `lost`.
 */
export const ApprovalOutcome = obj({
  approvalId: str({ min: 1, max: 128 }),
  decision: oneOf(['allow', 'allow_for_session', 'deny', 'withdrawn']),
  message: nullable(str()),
  decidedBy: str({ min: 1, max: 200 }),
  decidedAt: str(),
});
export type ApprovalOutcome = Infer<typeof ApprovalOutcome>;

/** Tokens and cost of a session's agent work (issue 14 item 5); `turns`: agent turns completed. */
export const Usage = obj({
  inputTokens: int({ min: 0 }),
  cachedInputTokens: int({ min: 0 }),
  outputTokens: int({ min: 0 }),
  costUsd: nullable(num({ min: 0 })),
  turns: int({ min: 0 }),
});
export type Usage = Infer<typeof Usage>;

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
  /**
   * Tokens and cost of the agent's work so far (issue 14 item 5), across the session's resumed
   * workers (each starts from its spec's `spent`); null until the agent reports any, absent from older workers.
   */
  usage: optional(nullable(Usage)),
  /** Wall time this session's agent has run, across resumed workers (what maxDurationMs limits); absent from older workers. */
  runMs: optional(int({ min: 0 })),
  /** Permission requests the agent waits on now (mode `ask`, issue 15); the supervisor shows the session as awaiting_approval while any is. */
  pendingApprovals: withDefault(arrayOf(PendingApproval), []),
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
/** Answer a pending approval; decidedBy as in ApprovalOutcome. */
export const ApproveParams = obj({
  approvalId: str({ min: 1, max: 128 }),
  decision: ApprovalDecision,
  message: optional(str({ max: 4_096 })),
  decidedBy: str({ min: 1, max: 200 }),
});

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
  /** Answer a pending approval (issue 15). */
  approve: obj({ id, params: ApproveParams }),
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

/**
 * The answer to `approve`: the outcome now recorded. `alreadyDecided`: it had been decided before
 * (by whoever the outcome names), and this answer changed nothing. An unknown id is an error frame.
 */
export const ApproveResult = obj({ outcome: ApprovalOutcome, alreadyDecided: bool() });

/** Result validator per method, checked when a response arrives. */
export const ResultSchemas = {
  hello: WorkerState,
  read: ReadResultSchema,
  send: SendResult,
  kill: WorkerState,
  interrupt: WorkerState,
  state: WorkerState,
  ackExit: noParams,
  approve: ApproveResult,
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
      /** The agent asks; sent before the request can be answered by anyone but a rule of the spec. */
      approvalPending: obj({ approval: PendingApproval }),
      /** A pending approval ended (answered by anyone, a rule, the timeout, or withdrawn by the agent). */
      approvalResolved: obj({ outcome: ApprovalOutcome }),
    }),
  ],
  ['error', obj({ id: int(), error: obj({ code: ErrorCode, message: str() }) })],
  ['id', obj({ id: int(), result: present() })],
]);
export type WorkerFrame = Infer<typeof WorkerFrame>;

// ---- the worker's launch spec ----------------------------------------------

/** full: every permission; edit: file edits in cwd; plan: read-only; ask: every permission request relayed for a decision (issue 15). */
export const AgentMode = oneOf(['full', 'edit', 'plan', 'ask']);
export type AgentMode = Infer<typeof AgentMode>;

const decimal = str({ pattern: /^\d+$/ });
const dirIdentity = obj({ dev: decimal, ino: decimal });

/**
 * The bubblewrap sandbox of a session (issue 16), every path absolute. The worker binds the cwd
 * and `extraPaths` by the directories it opened and checked against their identity (never by
 * a path looked up again); `agentState` by path (the agents' own files, outside any workspace).
 */
export const Confinement = obj({
  /** Absolute path of the bwrap binary the supervisor's trial run used. */
  bwrapBin: str({ min: 1 }),
  /** Made invisible and read-only (an empty tmpfs over each): STATE_DIR, WORKSPACE_DIR, WORKTREE_DIR. */
  hidePaths: arrayOf(str({ min: 1 })),
  /** An empty writable tmpfs of the agent's own over each (its TMPDIR), like its /tmp. */
  privateDirs: withDefault(arrayOf(str({ min: 1 })), []),
  /** Bound read-write when they exist: the agents' own state and caches (~/.claude, $CODEX_HOME …). */
  agentState: arrayOf(str({ min: 1 })),
  /** Bound read-only back inside a hidden path: the agent's own installation when it lies in one. */
  readOnlyBinds: withDefault(arrayOf(str({ min: 1 })), []),
  /** Per session, inside WORKSPACE_DIR, checked like the cwd (a monorepo's sibling, a worktree's git dirs). */
  extraPaths: withDefault(arrayOf(obj({ path: str({ min: 1 }), writable: bool(), identity: dirIdentity })), []),
});
export type Confinement = Infer<typeof Confinement>;
const positiveInt = int({ min: 1 });

/** A session's spend limits (issue 18 item 2); each null = none. */
export const SessionLimits = obj({
  maxCostUsd: withDefault(nullable(num({ min: 0 })), null),
  maxTokens: withDefault(nullable(int({ min: 1 })), null),
  maxTurns: withDefault(nullable(int({ min: 1 })), null),
  maxDurationMs: withDefault(nullable(int({ min: 1 })), null),
});
export type SessionLimits = Infer<typeof SessionLimits>;
export const NO_LIMITS: SessionLimits = { maxCostUsd: null, maxTokens: null, maxTurns: null, maxDurationMs: null };

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
  cwdIdentity: withDefault(nullable(dirIdentity), null),
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
  /** Developer instructions for the agent, added to agentvisor's own (issue 19 item 6). */
  instructions: withDefault(nullable(str()), null),
  /** Mode `ask` (issue 15): requests these rules answer `allow` without asking (decidedBy `rule`); timeoutMs 0 = wait for ever. */
  approvals: withDefault(
    obj({
      allowTools: withDefault(arrayOf(str()), []),
      allowCommandPrefixes: withDefault(arrayOf(str()), []),
      timeoutMs: withDefault(int({ min: 0 }), 15 * 60_000),
    }),
    { allowTools: [], allowCommandPrefixes: [], timeoutMs: 15 * 60_000 },
  ),
  /** Spend limits the worker enforces from reported usage and wall time (issue 18); null = none. */
  limits: withDefault(SessionLimits, NO_LIMITS),
  /**
   * What the session's previous workers spent, from the journal, when it is continued (resumed):
   * this worker counts on from it, so usage and limits cover the whole session. Null: a new session.
   */
  spent: optional(nullable(obj({ usage: nullable(Usage), runMs: int({ min: 0 }) }))),
  /** How the agent is confined (issue 16): `none`, or bubblewrap with what it may see; the supervisor decides, the worker applies. */
  sandbox: withDefault(oneOf(['none', 'bwrap']), 'none'),
  /** What the agent may see besides `/` read-only, its cwd and a private /tmp; set exactly when sandbox is `bwrap` (null: `none`, or a spec from before). */
  confinement: withDefault(nullable(Confinement), null),
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
