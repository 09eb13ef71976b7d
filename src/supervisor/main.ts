/**
 * The supervisor's composition root: config → state dir → token → logger →
 * journal → sessions (re-attached) → file-tool pool → HTTP. Signals stop it
 * gracefully and leave the workers running for the next supervisor.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ExitTimeouts, HttpTimeouts } from '../shared/constants';
import { createLogger } from '../shared/logger';
import { type Config, ConfigError, loadConfig } from './config';
import { FsPool } from './fs/fsPool';
import { tokenDigest } from './http/auth';
import { createHttpApp } from './http/app';
import { AgentCatalog } from './agentCapabilities';
import { originPolicy } from './http/originGuard';
import { JournalFileWatch, openJournal } from './journalFile';
import { installLastResort } from './lastResort';
import { ServerInfoFile } from './serverInfo';
import { decideSandbox } from './sandbox/probe';
import { Notifier } from './notifier';
import { SessionManager } from './sessionManager';
import { loadOrCreateToken, tokenFile, writeNewToken } from './token';
import { clientConfigText } from './clientConfig';

import { VERSION } from '../shared/packageInfo';

export { VERSION };

/** Where a running supervisor says how to reach it (for the CLI and tests). */
export const SERVER_INFO_FILE = 'server.json';

/** /health's event-loop delay histograms. Fixed: sampling granularity, not behaviour. */
const HealthSampling = {
  /** The cumulative histogram: fine enough for a p99, cheap enough to run for the process's life. */
  loopResolutionMs: 20,
  /** The one restarted on every detailed /health read: finer, to see a short recent stall. */
  recentResolutionMs: 10,
} as const;

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

export async function serve(config: Config): Promise<void> {
  // Everything in STATE_DIR (journal, sockets, output, logs) is the operator's alone.
  process.umask(0o077);
  // Signals that arrive while starting are held until the server is up, then honoured:
  // the default action would kill us mid-way through a journal write.
  const killOnExit = process.env.AGENTVISOR_KILL_SESSIONS_ON_EXIT === '1';
  // Assigned once the server is up (below); a signal before that is held, so it cannot be a const here.
  // eslint-disable-next-line prefer-const
  let stopHandler: ((signal: string, killSessions: boolean) => Promise<void>) | undefined;
  let heldStop: [string, boolean] | undefined;
  const requestStop = (signal: string, killSessions: boolean) => {
    if (stopHandler) void stopHandler(signal, killSessions);
    else heldStop ??= [signal, killSessions];
  };
  process.on('SIGTERM', () => requestStop('SIGTERM', killOnExit));
  process.on('SIGINT', () => requestStop('SIGINT', killOnExit));
  // pm2 reload/stop sends this on some setups; treat it like SIGINT.
  process.on('message', (msg) => {
    if (msg === 'shutdown') requestStop('shutdown', killOnExit);
  });
  // An operator's explicit "end everything": SIGUSR2 stops the server and every session.
  process.on('SIGUSR2', () => requestStop('SIGUSR2', true));

  fs.mkdirSync(config.STATE_DIR, { recursive: true, mode: 0o700 });
  fs.chmodSync(config.STATE_DIR, 0o700);
  fs.mkdirSync(path.join(config.STATE_DIR, 'logs'), { recursive: true, mode: 0o700 });
  const { token, generated } = loadOrCreateToken(config.STATE_DIR, config.AUTH_TOKEN);
  // Grows when the token is rotated: the logger scrubs every token this process has used.
  const secrets = [token];
  const log = createLogger({
    level: config.LOG_LEVEL,
    file: path.join(config.STATE_DIR, 'logs', 'agentvisor.log'),
    stderr: true,
    secrets,
  });
  installLastResort(log);
  if (isWildcard(config.HOST)) {
    log.warn(`HOST=${config.HOST} listens on every interface: anyone who can reach this port and holds the token gets a shell here`);
  }

  const started = Date.now();
  const { journal, exclusive } = openJournal(path.join(config.STATE_DIR, 'journal.db'));
  const journalFile = new JournalFileWatch(path.join(config.STATE_DIR, 'journal.db'), log);
  const agents = new AgentCatalog();
  // Detected in the background: start-up (and re-attach) must not wait on two CLIs' --help.
  // Set by stop() before it ends the logger: late async work must not log after that ("write after end" crashes the exit).
  let logEnded = false;
  void agents.detect({ 'claude-code': config.CLAUDE_BIN, codex: config.CODEX_BIN }).then(() => {
    if (logEnded) return;
    log.info('agents detected', { agents: agents.all().map((a) => ({ agent: a.agent, version: a.version, modes: a.modes, error: a.error })) });
  });
  // Before any session exists: SANDBOX=bwrap on a host where bwrap cannot run stops here.
  const sandbox = decideSandbox(config.SANDBOX);
  if (sandbox.kind === 'none' && sandbox.warning) log.warn(sandbox.warning);
  const sessions = new SessionManager(config, journal, log, agents, { sandbox });
  sessions.journalGuard.write(() => journal.event(null, 'supervisor_started', { pid: process.pid, version: VERSION }));
  // Before the re-attach: sessions found ended or lost at start-up are notified too.
  const notifier = config.NOTIFY_URL ? new Notifier(journal, sessions.journalGuard, log, { url: config.NOTIFY_URL, events: config.NOTIFY_EVENTS, version: VERSION }) : null;
  notifier?.start(sessions);
  const counts = await sessions.reattachAll();
  log.info('journal reconciled', { ...counts, ms: Date.now() - started });

  const fsPool = new FsPool();
  const loop = monitorEventLoopDelay({ resolution: HealthSampling.loopResolutionMs });
  loop.enable();
  // A second histogram restarted on every detailed /health read: the delay over the interval
  // since the previous read (the cumulative one above hides a recent stall behind hours of calm).
  const recentLoop = monitorEventLoopDelay({ resolution: HealthSampling.recentResolutionMs });
  recentLoop.enable();
  let recentSince = Date.now();
  // The histogram records each sampling timer's full interval (an idle loop reads ≈ the
  // resolution): the delay is what exceeds it.
  const ms = (ns: number, resolutionMs: number) => (Number.isFinite(ns) && ns > 0 ? Math.max(0, Math.round(ns / 1e4 - resolutionMs * 100) / 100) : 0);
  let port = config.PORT;
  const { app, connections, uiFeeds } = createHttpApp({
    ctx: { config, sessions, fsPool, log, agents },
    log,
    version: VERSION,
    tokenDigest: () => digest,
    // POST /admin/stop and /admin/token/rotate (agentvisor stop, agentvisor token --rotate).
    admin: {
      pid: process.pid,
      stop: (killSessions) => void stop('admin', killSessions),
      rotateToken: config.AUTH_TOKEN
        ? null
        : () => {
            const next = writeNewToken(config.STATE_DIR);
            secrets.push(next);
            digest = tokenDigest(next);
          },
      log,
    },
    originPolicy: originPolicy(config.HOST, () => port, config.ALLOWED_HOSTS, config.ALLOWED_ORIGINS),
    rateLimitRpm: config.RATE_LIMIT_RPM,
    rateLimitMaxAddresses: config.RATE_LIMIT_MAX_ADDRESSES,
    maxConnections: config.MAX_SSE_CONNECTIONS,
    idleTimeoutMs: config.SSE_IDLE_TIMEOUT,
    healthDetail: () => {
      const problems = [...journalFile.problems(), ...sessions.problems(), ...(serverInfo.problem ? [serverInfo.problem] : [])];
      if (exclusive) problems.push('STATE_DIR was full when agentvisor started, so it holds the journal exclusively: the CLI cannot read it until agentvisor restarts');
      // Counted by the journal: the detailed /health must not build the list of every session kept.
      const byStatus = sessions.list({ limit: 1 }).counts;
      return {
        version: VERSION,
        uptimeMs: Date.now() - started,
        sandbox: sandbox.kind,
        ...(sandbox.kind === 'none' && sandbox.warning ? { sandboxWarning: sandbox.warning } : {}),
        sessions: byStatus,
        workers: (byStatus.running ?? 0) + (byStatus.killing ?? 0),
        journal: sessions.journalGuard.unwritable ? `unwritable: ${sessions.journalGuard.unwritable}` : journal.db.open ? 'ok' : 'closed',
        // Degraded: serving, but something is not being recorded; each problem says what.
        ...(problems.length > 0 ? { status: 'degraded', problems } : {}),
        eventLoopDelayP99Ms: Math.round(ms(loop.percentile(99), HealthSampling.loopResolutionMs)),
        agents: agents.all(),
        eventLoopDelayP50Ms: ms(loop.percentile(50), HealthSampling.loopResolutionMs),
        eventLoopDelayMaxMs: ms(loop.max, HealthSampling.loopResolutionMs),
        eventLoopDelayRecent: (() => {
          const r = {
            windowMs: Date.now() - recentSince,
            samples: recentLoop.count,
            p50Ms: ms(recentLoop.percentile(50), HealthSampling.recentResolutionMs),
            p99Ms: ms(recentLoop.percentile(99), HealthSampling.recentResolutionMs),
            maxMs: ms(recentLoop.max, HealthSampling.recentResolutionMs),
          };
          recentLoop.reset();
          recentSince = Date.now();
          return r;
        })(),
        rssMB: Math.round(process.memoryUsage.rss() / 2 ** 20),
        // Notifications NOTIFY_URL has not taken yet (retrying): a number that stays up means the receiver is down.
        ...(notifier ? { notificationsPending: notifier.pending() } : {}),
      };
    },
  });
  let digest = tokenDigest(token);

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  const serverInfo = new ServerInfoFile(path.join(config.STATE_DIR, SERVER_INFO_FILE), { pid: process.pid, url, port });
  log.info('listening', { url, reattached: counts.reattached, startupMs: Date.now() - started });
  // The token goes to a person at a terminal, never into a log file or a pm2 log.
  const shown = process.stdout.isTTY ? token : `<the token in ${tokenFile(config.STATE_DIR)}${config.AUTH_TOKEN ? ' or AUTH_TOKEN' : ''}>`;
  process.stdout.write(`agentvisor ${VERSION} listening on ${url}\n`);
  process.stdout.write(clientConfigText(url, shown, generated) + '\n');

  let stopping = false;
  const stop = async (signal: string, killSessions: boolean) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal, killSessions });
    const hardStop = setTimeout(() => server.closeAllConnections(), HttpTimeouts.shutdownGraceMs);
    hardStop.unref();
    server.close();
    await connections.closeAll();
    uiFeeds.close();
    server.closeIdleConnections();
    await sessions.close({ killSessions });
    notifier?.close();
    await fsPool.close();
    sessions.journalGuard.write(() => journal.event(null, 'supervisor_stopped', { signal, killSessions }));
    sessions.journalGuard.close();
    journalFile.close();
    journal.close();
    serverInfo.remove();
    loop.disable();
    recentLoop.disable();
    log.on('finish', () => process.exit(0));
    logEnded = true;
    log.end();
    setTimeout(() => process.exit(0), ExitTimeouts.supervisorLogFlushMs).unref();
  };
  stopHandler = stop;
  if (heldStop) void stop(...heldStop);
}

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`agentvisor: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  try {
    await serve(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`agentvisor: ${err.message}\n`);
      process.exit(1);
    }
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `port ${config.PORT} on ${config.HOST} is already in use (set PORT to another)` : e.message;
    process.stderr.write(`agentvisor: could not start: ${why}\n`);
    process.exit(1);
  }
}
