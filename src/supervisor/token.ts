/**
 * The bearer token: AUTH_TOKEN if the operator set one, else a strong random
 * token generated once and kept in STATE_DIR/token (0600) so clients keep working
 * across restarts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function tokenFile(stateDir: string): string {
  return path.join(stateDir, 'token');
}

export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function loadOrCreateToken(stateDir: string, configured: string | undefined): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = tokenFile(stateDir);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 16) return { token: existing, generated: false };
  } catch {
    // no token yet: make one below
  }
  const token = generateToken();
  fs.writeFileSync(file, token + '\n', { mode: 0o600, flag: 'w' });
  fs.chmodSync(file, 0o600);
  return { token, generated: true };
}

/**
 * Replaces STATE_DIR/token with a new random token and returns it. Written to a
 * temporary file and renamed, so a reader never sees a half-written token.
 */
export function writeNewToken(stateDir: string): string {
  const token = generateToken();
  const file = tokenFile(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, token + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return token;
}
