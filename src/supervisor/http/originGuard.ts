/**
 * DNS-rebinding protection: a web page on evil.example that resolves its name
 * to 127.0.0.1 reaches our port with `Host: evil.example` and an `Origin` of its
 * own. Only the names we serve under are accepted, and a browser Origin only
 * when it is one of ours.
 */
import type { NextFunction, Request, Response } from 'express';

const LOCAL_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface OriginPolicy {
  hosts: Set<string>; // hostnames, lower-case, without port
  origins: Set<string>; // full origins, e.g. http://localhost:3500
}

export function originPolicy(host: string, port: () => number, extraHosts: string[], extraOrigins: string[]): () => OriginPolicy {
  // Computed lazily: with PORT=0 the real port is known only after listen.
  let cached: OriginPolicy | undefined;
  return () => {
    if (cached) return cached;
    const names = new Set([...LOCAL_NAMES, ...extraHosts.map((h) => h.toLowerCase())]);
    if (host !== '0.0.0.0' && host !== '::') names.add(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
    const origins = new Set(extraOrigins);
    for (const n of names) for (const scheme of ['http', 'https']) origins.add(`${scheme}://${n}:${port()}`);
    cached = { hosts: names, origins };
    return cached;
  };
}

function hostnameOf(hostHeader: string): string {
  const h = hostHeader.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':')[0];
}

export function guardOrigin(policy: () => OriginPolicy) {
  return (req: Request, res: Response, next: NextFunction) => {
    const p = policy();
    const host = req.headers.host;
    if (!host || !p.hosts.has(hostnameOf(host))) {
      res.status(403).json({ error: 'forbidden', message: 'Host header not allowed (set ALLOWED_HOSTS to serve under another name).' });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !p.origins.has(origin)) {
      res.status(403).json({ error: 'forbidden', message: 'Origin not allowed (set ALLOWED_ORIGINS to permit a browser client).' });
      return;
    }
    next();
  };
}
