/**
 * The page itself: index.html, its scripts and styles (static/, copied into dist
 * by the build), and the view library's ES modules straight from node_modules —
 * nothing from a CDN, so it works offline and is exactly the version installed.
 * Every /ui response carries a Content-Security-Policy that allows scripts from
 * this origin only (no inline script, no eval), so a line of agent output that
 * slipped into the DOM as markup still could not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';

export const UI_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join(
  '; ',
);

export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': UI_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  next();
}

const STATIC_DIR = path.join(__dirname, 'static');

/** A file beside a package's entry point (htm's exports do not list its package.json). */
function besideEntry(specifier: string, file: string): string {
  return path.join(path.dirname(require.resolve(specifier)), file);
}

/**
 * The browser resolves no bare specifiers without an import map, and an import
 * map is inline script: so the one bare import of preact/hooks is pointed at our
 * copy of preact instead.
 */
const VENDOR: Record<string, () => string> = {
  'preact.mjs': () => fs.readFileSync(require.resolve('preact'), 'utf8'),
  'hooks.mjs': () => {
    const src = fs.readFileSync(require.resolve('preact/hooks'), 'utf8');
    const out = src.replace(/from\s*["']preact["']/g, 'from"./preact.mjs"');
    if (!/from"\.\/preact\.mjs"/.test(out)) throw new Error('preact/hooks no longer imports "preact" as expected');
    return out;
  },
  'htm.mjs': () => fs.readFileSync(besideEntry('htm', 'htm.mjs'), 'utf8'),
};

export function createUiStatic(): express.Router {
  const router = express.Router();
  const cache = new Map<string, string>();
  router.get('/vendor/:file', (req, res) => {
    const name = req.params.file;
    const load = Object.hasOwn(VENDOR, name) ? VENDOR[name] : undefined;
    if (!load) return void res.status(404).json({ error: 'not_found' });
    let body = cache.get(name);
    if (body === undefined) {
      body = load();
      cache.set(name, body);
    }
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(body);
  });
  router.use('/static', express.static(STATIC_DIR, { index: false, redirect: false, dotfiles: 'ignore', fallthrough: false, cacheControl: true, maxAge: 0 }));
  router.get('/', (_req, res) => {
    res.set('Cache-Control', 'no-cache').sendFile(path.join(STATIC_DIR, 'index.html'));
  });
  return router;
}
