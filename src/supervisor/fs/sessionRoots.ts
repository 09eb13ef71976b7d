/**
 * The running sessions' cwds as file-tool roots, each with the directory identity recorded
 * when the session started (#12 item 10). The identity is read once per session from its
 * spec.json (written by the supervisor at start, so it survives a supervisor restart) and
 * cached. A session whose identity cannot be read contributes no root: its cwd lies inside
 * WORKSPACE_DIR anyway, so nothing legitimate is lost, and an unverifiable root is never
 * trusted.
 */
import type { DirIdentity } from '../../shared/dirHandle';
import { readSpec } from '../sessionDir';
import type { AllowedRoot } from './pathGuard';

interface LiveSession {
  id: string;
  cwd: string;
  session_dir: string;
}

export class SessionRoots {
  private readonly cache = new Map<string, AllowedRoot | null>();

  rootsOf(sessions: LiveSession[]): AllowedRoot[] {
    const live = new Set(sessions.map((s) => s.id));
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    const roots: AllowedRoot[] = [];
    for (const s of sessions) {
      if (!this.cache.has(s.id)) this.cache.set(s.id, rootOf(s));
      const root = this.cache.get(s.id);
      if (root) roots.push(root);
    }
    return roots;
  }
}

function rootOf(s: LiveSession): AllowedRoot | null {
  let identity: DirIdentity | null | undefined;
  try {
    identity = readSpec(s.session_dir).cwdIdentity;
  } catch {
    return null; // unreadable or corrupt spec: see the module comment
  }
  if (!identity || typeof identity.dev !== 'string' || typeof identity.ino !== 'string') return null;
  return { path: s.cwd, dev: identity.dev, ino: identity.ino };
}
