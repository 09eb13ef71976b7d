/**
 * The session core's own timing. Tests shrink these through SessionManager's
 * options; the heartbeat's two are also HEARTBEAT_INTERVAL / HEARTBEAT_GRACE.
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
