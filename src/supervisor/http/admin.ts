/**
 * Operator endpoints behind the bearer token, for `agentvisor stop` and
 * `agentvisor token --rotate`: mounted at /admin after the origin guard and auth.
 *
 *   POST /admin/stop          {"killSessions"?: boolean}  → 202, then the server stops
 *   POST /admin/token/rotate                              → 200 once the new token is in force
 *
 * Neither reply carries a token: rotation writes STATE_DIR/token, which the
 * operator (the only other reader of that 0700 directory) reads from there.
 */
import express from 'express';
import type { Logger } from 'winston';

export interface AdminHooks {
  pid: number;
  /** Stops the server like SIGTERM, or like SIGUSR2 (every session ended) with killSessions. Called once the reply is out. */
  stop(killSessions: boolean): void;
  /** Writes a new STATE_DIR/token and switches to it; null when AUTH_TOKEN fixes the token. */
  rotateToken: (() => void) | null;
  log: Logger;
}

export function createAdminRouter(hooks: AdminHooks | undefined): express.Router {
  const router = express.Router();
  if (!hooks) return router; // no hooks, no routes: the app's 404 answers

  router.post('/stop', (req, res) => {
    const body = (req.body ?? {}) as { killSessions?: unknown };
    if (body.killSessions !== undefined && typeof body.killSessions !== 'boolean') {
      res.status(400).json({ error: 'bad_request', message: 'killSessions must be true or false' });
      return;
    }
    const killSessions = body.killSessions === true;
    hooks.log.info('stop requested', { via: 'POST /admin/stop', killSessions });
    // The reply goes out before the server starts closing its connections.
    res.once('close', () => setImmediate(() => hooks.stop(killSessions)));
    res
      .status(202)
      .set('Connection', 'close')
      .json({ stopping: true, pid: hooks.pid, killSessions, managedBy: process.env.pm_id !== undefined ? 'pm2' : null });
  });

  router.post('/token/rotate', (_req, res) => {
    if (!hooks.rotateToken) {
      res.status(409).json({
        error: 'token_fixed',
        message: 'the server was started with AUTH_TOKEN, so its token cannot be rotated: change AUTH_TOKEN where the server gets it and restart the server',
      });
      return;
    }
    hooks.rotateToken();
    hooks.log.info('token rotated', { via: 'POST /admin/token/rotate' });
    res.json({ rotated: true });
  });

  return router;
}
