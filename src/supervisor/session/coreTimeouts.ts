/**
 * The session core's own timing. Tests shrink any of these through
 * SessionManager's `io.timeouts`. The heartbeat's two are operator settings too
 * (HEARTBEAT_INTERVAL / HEARTBEAT_GRACE, in `serve --help`): how long a stall
 * counts as a hang depends on the host. The others are fixed: they bound waits
 * on local sockets and processes that take milliseconds on any host, and a
 * setting would only offer a way to make the supervisor slower.
 */
export const SessionCoreTimeouts = {
  /** A dropped connection to a live worker is retried after this pause … */
  reconnectDelayMs: 200,
  /** … this many times before the worker is presumed wedged and its session ended. */
  reconnectAttempts: 5,
  /** session_kill waits this long for the agent to go, so the common case answers `killed`, not `killing`. */
  killReplyWaitMs: 1_000,
  /** Extra time past KILL_GRACE for `stop --kill-sessions` to see every agent gone. */
  shutdownKillMarginMs: 2_000,
  /** Each live worker is asked for its state this often: a worker answers in milliseconds, so this is cheap at 100s of sessions. */
  heartbeatIntervalMs: 5_000,
  /**
   * A ping unanswered this long marks the worker unresponsive (log line, /health,
   * session info). Well above a busy host's hiccups (GC, swap) so a report means a
   * stopped or wedged worker. The session is not ended for it: see heartbeat.ts.
   */
  heartbeatGraceMs: 15_000,
};
export type SessionCoreTimeouts = typeof SessionCoreTimeouts;

/** Ended sessions whose output is held in memory for reads (LRU). */
export const ENDED_RING_CACHE = 16;

/** session_start's first page: enough for an agent's banner and first lines, well under MCP clients' result caps. */
export const FIRST_PAGE = { lines: 200, bytes: 20_000 } as const;

/**
 * The newest lines kept per live session from its output events (recentLines.ts):
 * 100 is the smallest RING_LINES allowed, so this never holds a line a worker has
 * already dropped from its ring (whatever RING_LINES it was started with); the
 * character bound keeps 100s of sessions' copies small.
 */
export const RECENT_LINES = { lines: 100, chars: 32_768 } as const;
