/**
 * Doctor: how agentvisor is deployed — a running server or a free port, the workspace, pm2.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../../supervisor/config';
import { findOnPath } from '../../shared/findExecutable';
import { PACKAGE_ROOT } from '../../shared/packageInfo';
import { readOperatorToken } from '../common';
import { duration } from '../format';
import { findServer, health } from '../server';
import { type Check, fail, ok, warn } from './check';

function probePort(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

export async function portCheck(config: Config): Promise<Check> {
  const running = await findServer(config.STATE_DIR);
  const token = readOperatorToken(config);
  if (running) {
    const detail = token ? await health(running.connectUrl, token.token) : null;
    if (detail && detail.version !== undefined) {
      const sessions =
        Object.entries((detail.sessions ?? {}) as Record<string, number>)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ') || 'no sessions';
      const loop = detail.eventLoopDelayP99Ms !== undefined ? `, event-loop delay p99 ${detail.eventLoopDelayP99Ms} ms` : '';
      // Degraded: up and serving, but not recording everything (a full disk, a replaced journal).
      if (detail.status === 'degraded') {
        const problems = (detail.problems as string[] | undefined) ?? [];
        return warn(
          'server',
          `agentvisor ${detail.version} (pid ${running.pid}) serves ${running.url} degraded: ${problems.join('; ')}`,
          'free space in STATE_DIR (df -h STATE_DIR); agentvisor catches up by itself',
        );
      }
      return ok(
        'server',
        `agentvisor ${detail.version} (pid ${running.pid}) serves ${running.url}: up ${duration(Number(detail.uptimeMs ?? 0))}, ${sessions}, journal ${detail.journal ?? '?'}${loop}`,
      );
    }
    return warn(
      'server',
      `agentvisor (pid ${running.pid}) serves ${running.url} but refuses the token from ${token ? token.source : 'nowhere (there is none)'}`,
      'use the AUTH_TOKEN the server was started with, or restart it so that it reads STATE_DIR/token',
    );
  }
  if (config.PORT === 0) return ok('server', `not running; PORT=0 picks a free port at start`);
  const why = await probePort(config.HOST, config.PORT);
  if (why === null) return ok('server', `not running; port ${config.PORT} on ${config.HOST} is free`);
  if (why === 'EADDRINUSE') {
    const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`;
    if (await health(url)) {
      return warn(
        'server',
        `something answering like agentvisor listens on ${url}, but not for STATE_DIR ${config.STATE_DIR}`,
        'that is a server with another STATE_DIR: use its STATE_DIR, stop it, or give this one another PORT',
      );
    }
    return fail(
      'server',
      `port ${config.PORT} on ${config.HOST} is in use by another program`,
      `set PORT to a free port, or stop the program holding it (ss -ltnp 'sport = :${config.PORT}' names it)`,
    );
  }
  if (why === 'EACCES') return fail('server', `binding port ${config.PORT} needs privileges this user does not have`, 'set PORT to 1024 or higher');
  if (why === 'EADDRNOTAVAIL') return fail('server', `HOST=${config.HOST} is not an address of this machine`, 'set HOST to 127.0.0.1 or an address of this host');
  return fail('server', `port ${config.PORT} on ${config.HOST} cannot be bound: ${why}`, 'set HOST and PORT to an address and port this host can listen on');
}

export function workspaceCheck(dir: string): Check {
  try {
    if (fs.statSync(dir).isDirectory()) return ok('workspace', `WORKSPACE_DIR ${dir} exists`);
    return fail('workspace', `WORKSPACE_DIR ${dir} is not a directory`, 'set WORKSPACE_DIR to the directory sessions may work in');
  } catch {
    return warn('workspace', `WORKSPACE_DIR ${dir} does not exist (when serve starts elsewhere it defaults to that directory)`, `mkdir -p ${dir}, or set WORKSPACE_DIR`);
  }
}

export function pm2Check(env: NodeJS.ProcessEnv): Check {
  const local = path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'pm2');
  const pm2 = findOnPath('pm2', env.PATH) ?? (fs.existsSync(local) ? local : null);
  const ecosystem = [path.join(PACKAGE_ROOT, 'ecosystem.config.cjs'), path.join(process.cwd(), 'ecosystem.config.cjs')].find((f) => fs.existsSync(f));
  if (!pm2) {
    return warn(
      'pm2',
      'pm2 not found (on PATH or in node_modules/.bin): nothing restarts agentvisor if it stops or the host reboots',
      'npm install -g pm2, then pm2 start ecosystem.config.cjs (or run agentvisor serve under systemd)',
    );
  }
  if (!ecosystem) {
    return warn(
      'pm2',
      `pm2 found (${pm2}) but no ecosystem.config.cjs in ${PACKAGE_ROOT} or the current directory`,
      'add an ecosystem.config.cjs that runs agentvisor serve, then pm2 start ecosystem.config.cjs',
    );
  }
  return ok('pm2', `pm2 found (${pm2}) with ${ecosystem}`);
}
