/**
 * Bearer-token check for every MCP endpoint. Compared in constant time (both
 * sides hashed first so lengths cannot leak either); a token in the query string
 * is never looked at, so it can never end up in an access log or a Referer.
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export function tokenDigest(token: string): Buffer {
  return crypto.createHash('sha256').update(token).digest();
}

export function bearerOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}

export function tokenMatches(presented: string | undefined, expected: Buffer): boolean {
  if (!presented) return false;
  return crypto.timingSafeEqual(tokenDigest(presented), expected);
}

/** `getDigest` is read per request so a rotated token takes effect at once. */
export function requireBearer(getDigest: () => Buffer) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (tokenMatches(bearerOf(req), getDigest())) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer realm="agentvisor"').json({ error: 'unauthorized', message: 'Send the agentvisor token as "Authorization: Bearer <token>".' });
  };
}
