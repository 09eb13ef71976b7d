/**
 * pm2 process file for agentvisor: `pm2 start ecosystem.config.cjs`.
 *
 * pm2 runs the supervisor only (`dist/src/cli.js serve`; build first). Each
 * session's worker is double-forked (`setsid --fork`) out of the supervisor's
 * process tree, so `pm2 restart|reload|stop agentvisor` replaces the supervisor
 * and the sessions run on: the next supervisor re-attaches to them from its
 * journal. Ending every session is an explicit act: `pm2 sendSignal SIGUSR2
 * agentvisor` (pm2 then starts a fresh supervisor; `pm2 stop` it if it should
 * stay down), or AGENTVISOR_KILL_SESSIONS_ON_EXIT=1 for every stop.
 *
 * Settings are read from the environment of the `pm2 start` command (and from
 * `.env` in `cwd`, below), e.g.
 *   STATE_DIR=/srv/agentvisor PORT=3500 WORKSPACE_DIR=/srv/work pm2 start ecosystem.config.cjs
 * pm2 stores the environment with the app: a later `pm2 restart agentvisor`
 * reuses it; `pm2 restart ecosystem.config.cjs --update-env` takes a changed one.
 */
'use strict';
const os = require('node:os');
const path = require('node:path');

/** agentvisor's own settings (`agentvisor serve --help`), passed through when set. */
const SETTINGS = [
  'AUTH_TOKEN',
  'PORT',
  'HOST',
  'WORKSPACE_DIR',
  'STATE_DIR',
  'IDLE_TIMEOUT',
  'ORPHAN_TIMEOUT',
  'KILL_GRACE',
  'START_OUTPUT_WAIT',
  'WAIT_MAX',
  'WORKER_READY_TIMEOUT',
  'MAX_SESSIONS',
  'MAX_SSE_CONNECTIONS',
  'SSE_IDLE_TIMEOUT',
  'RATE_LIMIT_RPM',
  'RATE_LIMIT_MAX_ADDRESSES',
  'RING_LINES',
  'ENDED_SESSIONS_KEPT',
  'CLAUDE_BIN',
  'CODEX_BIN',
  'LOG_LEVEL',
  'ALLOWED_HOSTS',
  'ALLOWED_ORIGINS',
  'AGENTVISOR_KILL_SESSIONS_ON_EXIT',
];
const passed = {};
for (const [name, value] of Object.entries(process.env)) {
  // CHILD_ENV_FOO=bar becomes FOO=bar in every agent's environment.
  if (value !== undefined && value !== '' && (SETTINGS.includes(name) || name.startsWith('CHILD_ENV_'))) passed[name] = value;
}

const pm2Home = process.env.PM2_HOME || path.join(os.homedir(), '.pm2');
/** pm2's capture of the supervisor's stdout/stderr (its own log is STATE_DIR/logs/agentvisor.log). */
const logDir = process.env.AGENTVISOR_PM2_LOG_DIR || path.join(pm2Home, 'logs');

module.exports = {
  apps: [
    {
      name: 'agentvisor',
      script: path.join(__dirname, 'dist', 'src', 'cli.js'),
      args: ['serve'],
      cwd: __dirname,
      // One supervisor per STATE_DIR: it owns the journal and the port. Never cluster mode; in fork
      // mode `pm2 reload` is a restart (the old supervisor exits before the new one starts).
      exec_mode: 'fork',
      instances: 1,
      env: { NODE_ENV: 'production', ...passed },

      autorestart: true,
      watch: false,
      // A crash-looping supervisor (bad config, port taken) backs off 200 ms, 300 ms, … up to 15 s,
      // and pm2 gives up after max_restarts starts that each lived less than min_uptime.
      exp_backoff_restart_delay: 200,
      max_restarts: 10,
      min_uptime: '10s',

      // pm2 stops the supervisor with SIGINT, then SIGKILL after kill_timeout. A graceful stop
      // takes about a second (close client connections and worker sockets, close the journal,
      // flush the log; at most 1 s more for the log); one that ends every session
      // (AGENTVISOR_KILL_SESSIONS_ON_EXIT=1) waits up to 1 s + KILL_GRACE + 2 s on top. kill_timeout
      // stays well above that, so the journal records a clean stop, never a SIGKILL mid-write.
      kill_timeout: Math.max(15_000, (Number(process.env.KILL_GRACE) || 5_000) + 10_000),
      // Signal the supervisor alone. Workers are not in its tree anyway (setsid --fork), but a
      // worker caught mid-double-fork would be, and would die of pm2's SIGINT; the supervisor,
      // not pm2, decides what happens to sessions.
      treekill: false,
      shutdown_with_message: false,

      // stdout (the listening line) and stderr (JSON log lines, timestamped already) to fixed
      // files, one each whatever the restarts: no pm2 timestamp prefix, no -<id> suffix.
      out_file: path.join(logDir, 'agentvisor.out.log'),
      error_file: path.join(logDir, 'agentvisor.err.log'),
      merge_logs: true,
      time: false,
    },
  ],
};
