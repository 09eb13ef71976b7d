/**
 * How long the operator CLI waits, for what. Fixed, not configurable: each
 * bounds a local call or a poll; `stop` and `kill` take `--timeout` for the one
 * wait an operator may want to change (default `giveUpS`).
 */
export const CliTimeouts = {
  /** /health and server.json probes: a local server answers at once; a hung one must not hang the CLI. */
  healthMs: 2_000,
  /** Admin routes (stop, token): quick on the server's side. */
  adminMs: 10_000,
  /** session_list pages for the CLI: one page is a journal query. */
  listMs: 10_000,
  /** Any other tool call. */
  callMs: 60_000,
  /** A tool call that itself waits (session_wait) gets its wait plus this: the reply must be able to arrive. */
  callSlackMs: 30_000,
  /** A call in flight checks this often that the server process still exists, to fail at once when it is gone. */
  serverWatchMs: 250,
  /** `logs -f`: one session_wait blocks this long; well under the server's WAIT_MAX (120 s by default). */
  followWaitMs: 25_000,
  /** `logs -f` without a server: disk polling interval. */
  diskPollMs: 200,
  /** `kill`: one session_wait slice, so a session that ends is seen within it even if no event wakes the wait. */
  killWaitSliceMs: 10_000,
  /** `stop`: how often it looks whether the server process is gone. */
  stopPollMs: 50,
  /** Default of `stop --timeout` and `kill --timeout`, in seconds. */
  giveUpS: 60,
} as const;
