/**
 * The dashboard's login: the page trades the token, once, for a cookie. The
 * cookie holds no token: it is `v2.<expiry>.<sha256(key)>.<mac>`, the MAC keyed by
 * the token's digest, so it is checked without server-side state (it survives a
 * restart) and every cookie dies the moment the token is rotated. HttpOnly keeps
 * it from page scripts, SameSite=Strict from other sites' requests, Secure when
 * the page was reached over TLS (a TLS proxy in front, as for a phone).
 *
 * The cookie alone is not enough: browsers send cookies to every port of a host,
 * so a page an agent serves on localhost:3000 would receive it and could replay
 * it from curl. The login reply also hands the page a random per-login key that
 * the page keeps in sessionStorage (isolated per origin, port included); every
 * /ui/api call must carry it (header UI_KEY_HEADER; the feed, whose EventSource
 * cannot send headers, as query parameter UI_KEY_PARAM on its own URL only) and
 * it must hash to the digest inside the cookie. The key is no token: it opens
 * nothing without the cookie, and dies with it.
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { OriginPolicy } from '../http/originGuard';

export const UI_COOKIE = 'agentvisor_ui';
/** Also the cookie's Path: it is never sent to the MCP endpoints. */
export const UI_PATH = '/ui';

/** The header every /ui/api call carries the per-login key in. */
export const UI_KEY_HEADER = 'x-agentvisor-ui';
/** The live feed's query parameter for the same key (EventSource cannot set headers). */
export const UI_KEY_PARAM = 'k';

export const UiAuthTimeouts = {
  /** How long a login lasts: a working week on a phone without retyping a 43-character token. Fixed. */
  cookieLifetimeMs: 7 * 24 * 3_600_000,
} as const;

function mac(digest: Buffer, body: string): string {
  return crypto.createHmac('sha256', digest).update(`agentvisor-ui:${body}`).digest('base64url');
}

function keyDigest(key: string): string {
  return crypto.createHash('sha256').update(key).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** A new login: the cookie for the browser and the key for the page (only its digest is in the cookie). */
export function issueCookie(digest: Buffer, now = Date.now()): { cookie: string; key: string } {
  const key = crypto.randomBytes(32).toString('base64url');
  const body = `v2.${now + UiAuthTimeouts.cookieLifetimeMs}.${keyDigest(key)}`;
  return { cookie: `${body}.${mac(digest, body)}`, key };
}

/** The cookie is one we issued under the current token and not expired; with `key`, also that login's key. */
export function cookieValid(value: string | undefined, digest: Buffer, now = Date.now(), key?: string): boolean {
  if (!value || value.length > 200) return false;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== 'v2') return false;
  const expires = Number(parts[1]);
  if (!Number.isSafeInteger(expires) || expires < now) return false;
  if (!sameText(parts[3], mac(digest, parts.slice(0, 3).join('.')))) return false;
  if (key === undefined) return true;
  return key.length <= 100 && sameText(parts[2], keyDigest(key));
}

/** The per-login key a request carries: the header, or (the feed only) the query parameter. */
export function uiKeyOf(req: Request, allowQuery = false): string {
  const header = req.headers[UI_KEY_HEADER];
  if (typeof header === 'string') return header;
  const param = allowQuery ? req.query[UI_KEY_PARAM] : undefined;
  return typeof param === 'string' ? param : '';
}

/** The one cookie we read; every other cookie (and a malformed header) is ignored. */
export function uiCookieOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === UI_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** TLS as the browser saw it: our own socket is plain HTTP behind a proxy, but the page's Origin says https. */
function overTls(req: Request): boolean {
  return req.secure || (req.headers.origin ?? '').startsWith('https://');
}

export function setUiCookie(req: Request, res: Response, value: string, maxAgeMs: number): void {
  const flags = [`${UI_COOKIE}=${value}`, `Path=${UI_PATH}`, `Max-Age=${Math.floor(maxAgeMs / 1000)}`, 'HttpOnly', 'SameSite=Strict'];
  if (overTls(req)) flags.push('Secure');
  res.append('Set-Cookie', flags.join('; '));
}

export function requireUiLogin(getDigest: () => Buffer, allowQueryKey = false) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (cookieValid(uiCookieOf(req), getDigest(), Date.now(), uiKeyOf(req, allowQueryKey))) return next();
    res.status(401).json({ error: 'unauthorized', message: 'log in with the agentvisor token' });
  };
}

/**
 * A state-changing call must come from our own page: the Origin header present
 * (browsers send it on every POST) and one we serve under, and a JSON body (which
 * a cross-site form cannot send without a CORS preflight we never answer).
 */
export function requireSameOrigin(policy: () => OriginPolicy) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin === undefined || !policy().origins.has(origin)) {
      res.status(403).json({ error: 'forbidden', message: 'state-changing dashboard calls need an allowed Origin header' });
      return;
    }
    if (req.is('application/json') !== 'application/json') {
      res.status(415).json({ error: 'unsupported_media_type', message: 'Content-Type must be application/json' });
      return;
    }
    next();
  };
}
