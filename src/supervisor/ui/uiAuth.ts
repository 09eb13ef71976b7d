/**
 * The dashboard's login: the page trades the token, once, for a cookie. The
 * cookie holds no token: it is `v1.<expiry>.<nonce>.<mac>`, the MAC keyed by the
 * token's digest, so it is checked without server-side state (it survives a
 * restart) and every cookie dies the moment the token is rotated. HttpOnly keeps
 * it from page scripts, SameSite=Strict from other sites' requests, Secure when
 * the page was reached over TLS (a TLS proxy in front, as for a phone).
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { OriginPolicy } from '../http/originGuard';

export const UI_COOKIE = 'agentvisor_ui';
/** Also the cookie's Path: it is never sent to the MCP endpoints. */
export const UI_PATH = '/ui';

export const UiAuthTimeouts = {
  /** How long a login lasts: a working week on a phone without retyping a 43-character token. Fixed. */
  cookieLifetimeMs: 7 * 24 * 3_600_000,
} as const;

function mac(digest: Buffer, body: string): string {
  return crypto.createHmac('sha256', digest).update(`agentvisor-ui:${body}`).digest('base64url');
}

export function issueCookie(digest: Buffer, now = Date.now()): string {
  const body = `v1.${now + UiAuthTimeouts.cookieLifetimeMs}.${crypto.randomBytes(16).toString('base64url')}`;
  return `${body}.${mac(digest, body)}`;
}

export function cookieValid(value: string | undefined, digest: Buffer, now = Date.now()): boolean {
  if (!value || value.length > 200) return false;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return false;
  const expires = Number(parts[1]);
  if (!Number.isSafeInteger(expires) || expires < now) return false;
  const expected = Buffer.from(mac(digest, parts.slice(0, 3).join('.')));
  const given = Buffer.from(parts[3]);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
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

export function requireUiLogin(getDigest: () => Buffer) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (cookieValid(uiCookieOf(req), getDigest())) return next();
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
