/**
 * Every timeout and bound of agentvisor, grouped by concern. Each one can be
 * overridden from the environment (see config.ts) so tests can shrink it.
 */

export const SessionTimeouts = {
  /** An agent silent in both directions this long is presumed stuck and is killed by its worker. */
  idleTimeoutMs: 30 * 60_000,
  /** SIGTERM → SIGKILL grace: long enough for an agent to flush its own transcript. */
  killGraceMs: 5_000,
  /** session_start waits at most this for the first output, so a slow agent never blocks the client. */
  startOutputWaitMs: 1_500,
  /** Default session_wait block when the client gives none. */
  waitDefaultMs: 30_000,
  /** session_wait sends a progress notification this often (when asked), so clients that reset their timeout on progress keep waiting. */
  waitProgressIntervalMs: 5_000,
  /** Upper bound of session_wait: keeps a request from outliving sane client/proxy timeouts. */
  waitMaxMs: 120_000,
  /** A worker without a supervisor this long ends its session, so stopping agentvisor for good frees the host. */
  orphanTimeoutMs: 5 * 60_000,
} as const;

export const WorkerTimeouts = {
  /** A new worker must report ready this fast; longer means it failed to start (bad node, full disk). */
  spawnReadyMs: 10_000,
  /** Output is written to disk at least this often, bounding what a worker SIGKILL can lose. */
  outputFlushMs: 25,
  /** A PTY line with no newline is published after this much quiet, so prompts ("[y/n]") become visible. */
  partialLineFlushMs: 150,
  /** After reporting its exit, a worker waits this long for the supervisor's ack before exiting anyway. */
  exitAckMs: 2_000,
  /** IPC request timeout: a live worker answers in well under a second. */
  requestMs: 10_000,
  /** How long the worker's connection handshake may take before the socket is dropped. */
  helloMs: 5_000,
  /** After the agent exits, its output pipes get this long to drain: a grandchild holding them must not keep the session running. */
  stdioDrainGraceMs: 1_000,
  /** The agent's process tree is walked this often, so a command that leaves it (setsid, double fork) is still known and killed at the end. */
  treeScanMs: 500,
} as const;

export const HttpTimeouts = {
  /** An SSE stream with no client traffic this long is evicted to free a connection slot. */
  sseIdleTimeoutMs: 5 * 60_000,
  /** Keep-alive comment on SSE streams, under common proxy idle cutoffs (60 s). */
  sseKeepAliveMs: 25_000,
  /** On SIGTERM, open HTTP connections get this long to finish before they are cut. */
  shutdownGraceMs: 3_000,
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
  maxPathChars: 4_096,
  /** A client's idempotency key: room for a UUID or a hash with a prefix, no more. */
  maxIdempotencyKeyChars: 200,
  /** Idempotency keys a worker remembers: far more than a client retries at once, bounded so a flood of keys cannot grow it. */
  idempotencyKeysKept: 1_000,
} as const;
