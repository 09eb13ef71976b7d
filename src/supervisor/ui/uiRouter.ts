/**
 * /ui, the live dashboard: the page (uiStatic.ts), its login (uiAuth.ts), its
 * JSON API (uiApi.ts) and its live feed (uiFeed.ts). Mounted by the HTTP app
 * behind the same Host/Origin guard as the MCP endpoints; the page's calls carry
 * a cookie, never the token.
 */
import express, { type RequestHandler } from 'express';
import type { OriginPolicy } from '../http/originGuard';
import { tokenMatches } from '../http/auth';
import type { ToolContext } from '../tools/context';
import { createUiApi } from './uiApi';
import { uiJson } from './uiBody';
import { UiAuthTimeouts, issueCookie, requireSameOrigin, requireUiLogin, setUiCookie } from './uiAuth';
import { UiFeeds } from './uiFeed';
import { createUiStatic, securityHeaders } from './uiStatic';

/** A login body holds one token: anything bigger is not a login. */
const LOGIN_BODY_LIMIT = '4kb';
const LOGIN_BODY_BYTES = 4 * 1024;
/** Dashboard calls carry at most a task or a message (100,000 characters, up to 4 bytes each). */
const API_BODY_LIMIT = '512kb';
const API_BODY_BYTES = 512 * 1024;

export interface UiDeps {
  ctx: ToolContext;
  tokenDigest: () => Buffer;
  originPolicy: () => OriginPolicy;
  /** The MCP endpoints' per-address limiter: a login is a guess at the token. */
  limiter: RequestHandler;
}

export function createUi(deps: UiDeps): { router: express.Router; feeds: UiFeeds } {
  const router = express.Router();
  const feeds = new UiFeeds(deps.ctx.sessions, deps.tokenDigest, deps.ctx.log);
  const loggedIn = requireUiLogin(deps.tokenDigest);
  const sameOrigin = requireSameOrigin(deps.originPolicy);
  router.use(securityHeaders);
  router.use('/api', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.post('/api/login', deps.limiter, sameOrigin, uiJson('login body', LOGIN_BODY_LIMIT, LOGIN_BODY_BYTES), (req, res) => {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || !tokenMatches(token, deps.tokenDigest())) {
      deps.ctx.log.warn('dashboard login refused', { address: req.socket.remoteAddress });
      return void res.status(401).json({ error: 'unauthorized', message: 'wrong token' });
    }
    const { cookie, key } = issueCookie(deps.tokenDigest());
    setUiCookie(req, res, cookie, UiAuthTimeouts.cookieLifetimeMs);
    // The page keeps the key (sessionStorage) and sends it with every call: see uiAuth.ts.
    res.status(200).json({ key });
  });
  router.post('/api/logout', sameOrigin, (req, res) => {
    setUiCookie(req, res, '', 0);
    res.status(204).end();
  });
  router.get('/api/events', requireUiLogin(deps.tokenDigest, true), (req, res) => feeds.open(req, res));
  router.use('/api', loggedIn, (req, res, next) => (req.method === 'GET' ? next() : sameOrigin(req, res, next)), uiJson('request body', API_BODY_LIMIT, API_BODY_BYTES), createUiApi(deps.ctx));
  router.use(createUiStatic());
  return { router, feeds };
}
