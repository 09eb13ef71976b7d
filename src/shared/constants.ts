/**
 * The shared timeouts and bounds of agentvisor, grouped by concern (a timeout
 * private to one module lives there, in an object of its own). Those an
 * operator or a test needs to change are overridable from the environment
 * through supervisor/config.ts, which lists them in `agentvisor serve --help`;
 * their entries name the variable. Every other one is fixed, and says why.
 */

export const SessionTimeouts = {
  /** An agent silent in both directions this long is presumed stuck and is killed by its worker. IDLE_TIMEOUT. */
  idleTimeoutMs: 30 * 60_000,
  /** SIGTERM → SIGKILL grace: long enough for an agent to flush its own transcript. KILL_GRACE. */
  killGraceMs: 5_000,
  /** session_start waits at most this for the first output, so a slow agent never blocks the client. START_OUTPUT_WAIT. */
  startOutputWaitMs: 1_500,
  /** Default session_wait block when the client gives none. Fixed: the client passes timeoutMs to change it (capped by WAIT_MAX). */
  waitDefaultMs: 30_000,
  /** session_wait sends a progress notification this often (when asked), so clients that reset their timeout on progress keep waiting. WAIT_PROGRESS_INTERVAL. */
  waitProgressIntervalMs: 5_000,
  /** Upper bound of session_wait: keeps a request from outliving sane client/proxy timeouts. WAIT_MAX. */
  waitMaxMs: 120_000,
  /** A worker without a supervisor this long ends its session, so stopping agentvisor for good frees the host. ORPHAN_TIMEOUT. */
  orphanTimeoutMs: 5 * 60_000,
  /** Mode ask: a permission request nobody answers is denied after this long (fail closed); 0 waits for ever. APPROVAL_TIMEOUT. */
  approvalTimeoutMs: 15 * 60_000,
} as const;

export const WorkerTimeouts = {
  /** A new worker must report ready this fast; longer means it failed to start (bad node, full disk). WORKER_READY_TIMEOUT. */
  spawnReadyMs: 10_000,
  /** Output is written to disk at least this often, bounding what a worker SIGKILL can lose. Fixed: the loss bound is a promise, not a tuning knob. */
  outputFlushMs: 25,
  /** A PTY line with no newline is published after this much quiet, so prompts ("[y/n]") become visible. Fixed: a human-scale pause, whatever the host. */
  partialLineFlushMs: 150,
  /** After reporting its exit, a worker waits this long for the supervisor's ack before exiting anyway. Fixed: a local journal write takes milliseconds. */
  exitAckMs: 2_000,
  /** IPC request timeout: a live worker answers in well under a second. Fixed: a hung worker is what it catches, at any setting. */
  requestMs: 10_000,
  /** How long the worker's connection handshake may take before the socket is dropped. Fixed: a local hello is instant; this only sheds stray connections. */
  helloMs: 5_000,
  /** After the agent exits, its output pipes get this long to drain: a grandchild holding them must not keep the session running. Fixed: local pipes drain in milliseconds. */
  stdioDrainGraceMs: 1_000,
  /** The agent's process tree is walked this often, so a command that leaves it (setsid, double fork) is still known and killed at the end. Fixed: a trade of CPU against escape windows, set once. */
  treeScanMs: 500,
} as const;

export const HttpTimeouts = {
  /** An SSE stream with no client traffic this long is evicted to free a connection slot. SSE_IDLE_TIMEOUT. */
  sseIdleTimeoutMs: 5 * 60_000,
  /** On SIGTERM, open HTTP connections get this long to finish before they are cut. Fixed: a stop must not wait on a slow client. */
  shutdownGraceMs: 3_000,
} as const;

/**
 * A process on its way out ends its log first; these bound that wait. Fixed:
 * the log is local, and an exit must never hang on it.
 */
export const ExitTimeouts = {
  /** The supervisor's log flush at stop. */
  supervisorLogFlushMs: 1_000,
  /** A worker's log flush once its session's outcome is on disk. */
  workerLogFlushMs: 500,
  /** A crashed worker: long enough to signal the agent's tree and log the crash. */
  workerCrashMs: 200,
} as const;

export const Limits = {
  /** Lines kept per session, in memory and on disk. */
  ringLines: 10_000,
  /** Longer lines are split: one runaway line must not become a multi-megabyte record. */
  maxLineChars: 16_384,
  /** Default byte budget of one output page, well under MCP clients' ~25k-token result caps. */
  outputPageBytes: 60_000,
  /** Largest page a client may ask for. */
  outputPageBytesMax: 1_000_000,
  /** Default and maximum lines of one output page. */
  outputPageLines: 1_000,
  outputPageLinesMax: 10_000,
  /** Bounded retention of ended sessions' output on disk. */
  endedSessionsKept: 500,
  /** Journal events of no session (supervisor starts and stops) kept: years of daily restarts, yet a crash loop cannot grow the journal. */
  supervisorEventsKept: 1_000,
  /** session_list's default page: every running session at the default MAX_SESSIONS, then recent ended ones (~50 KB reply). */
  sessionListPage: 50,
  /** session_list's largest page: the default ENDED_SESSIONS_KEPT in one reply (~480 KB). */
  sessionListMax: 500,
  /** Text argument limits: large enough for any real prompt, small enough to refuse a flood. */
  maxTaskChars: 100_000,
  maxMessageChars: 100_000,
  /**
   * session_start `instructions`: a page of guidance, not a second task. Bounded so that, with
   * agentvisor's own prompt, it stays one argv element under Linux's 128 KiB (4 bytes a char at worst).
   */
  maxInstructionsChars: 16_000,
  /** session_start / session_send `context` (issue 19 item 7): items per call, and characters of attached text in all (two default read_file pages). */
  maxContextItems: 20,
  maxContextChars: 200_000,
  maxPathChars: 4_096,
  /** readOnlyPaths / writablePaths of one session (issue 16): a monorepo's siblings, a worktree's git dirs; each is a bind mount. */
  maxExtraPaths: 16,
  /** A client's idempotency key: room for a UUID or a hash with a prefix, no more. */
  maxIdempotencyKeyChars: 200,
  /** Idempotency keys a worker remembers: far more than a client retries at once, bounded so a flood of keys cannot grow it. */
  idempotencyKeysKept: 1_000,
} as const;
