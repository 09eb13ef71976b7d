/**
 * What a confined agent may see besides `/` read-only, its cwd and a private /tmp (issue 16):
 * decided here, applied by the worker (worker/sandbox.ts).
 *
 * Hidden: STATE_DIR (the token, the journal with every worker's secret, the spec files), all
 * of WORKSPACE_DIR but the session's own paths, and WORKTREE_DIR (every session's worktree, which
 * may lie outside both; a worktree session gets its own back as its cwd); the agent's TMPDIR is a private empty one.
 * Writable besides the cwd: the agent's own state, found by running the real CLIs confined —
 * Claude Code writes its transcripts and settings under ~/.claude (or CLAUDE_CONFIG_DIR) and
 * rewrites ~/.claude.json; Codex its sessions, logs and databases under CODEX_HOME (~/.codex);
 * both may use the XDG cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DirIdentity } from '../../shared/dirHandle';
import { findOnPath } from '../../shared/findExecutable';
import type { AgentKind, Confinement } from '../../shared/protocol';
import { isInside } from '../fs/pathGuard';

export interface ConfinementInput {
  bwrapBin: string;
  stateDir: string;
  workspaceDir: string;
  worktreeDir: string;
  agent: AgentKind;
  agentBin: string;
  /** The agent's complete environment (HOME, CODEX_HOME, TMPDIR … as the agent will see them). */
  env: Record<string, string>;
  extraPaths: Array<{ path: string; writable: boolean; identity: DirIdentity }>;
}

const real = (p: string) => {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
};

/** The agent's own files, read-write; directories are created so they can be bound (the agent would create them anyway). */
function agentState(agent: AgentKind, env: Record<string, string>): string[] {
  const home = env.HOME;
  const dirs: string[] = [];
  const files: string[] = [];
  if (agent === 'claude-code') {
    if (env.CLAUDE_CONFIG_DIR) dirs.push(env.CLAUDE_CONFIG_DIR);
    if (home) {
      dirs.push(path.join(home, '.claude'));
      files.push(path.join(home, '.claude.json'));
    }
  } else {
    if (env.CODEX_HOME) dirs.push(env.CODEX_HOME);
    else if (home) dirs.push(path.join(home, '.codex'));
  }
  const cache = env.XDG_CACHE_HOME ?? (home ? path.join(home, '.cache') : undefined);
  if (cache) dirs.push(cache);
  // A relative value names nothing the agent could be given (and must not be created here, in our cwd).
  const absolute = (p: string) => path.isAbsolute(p);
  for (const d of dirs.filter(absolute)) {
    try {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    } catch {
      // Not ours to create (a read-only home): bound if it exists, else the agent runs without it.
    }
  }
  for (const f of files.filter(absolute)) {
    try {
      // An empty configuration, as Claude Code starts one; 'wx': an existing file is never touched.
      fs.writeFileSync(f, '{}\n', { flag: 'wx', mode: 0o600 });
    } catch {
      // It exists (the usual case), or cannot be made: as for the directories.
    }
  }
  return [...dirs, ...files].filter(absolute).map(real);
}

/**
 * Where a program is installed, when a hidden path would hide it: the outermost node_modules
 * of its real path (the agent CLIs are npm packages whose native parts live in sibling
 * packages), else its own directory.
 */
function installRoot(file: string): string {
  const parts = file.split(path.sep);
  const i = parts.indexOf('node_modules');
  return i > 0 ? parts.slice(0, i + 1).join(path.sep) : path.dirname(file);
}

export function confinementFor(o: ConfinementInput): Confinement {
  try {
    // Made now, as a worktree session would make it: a path missing when an agent starts cannot be
    // hidden, and one made later (another session's worktree) would appear on its read-only `/`.
    fs.mkdirSync(o.worktreeDir, { recursive: true, mode: 0o700 });
  } catch {
    // Not creatable: then no worktree can be made there either.
  }
  const hide = [o.stateDir, o.workspaceDir, o.worktreeDir].map(real).filter((p) => p !== '/');
  const privateDirs = o.env.TMPDIR && path.isAbsolute(o.env.TMPDIR) && real(o.env.TMPDIR) !== '/' ? [real(o.env.TMPDIR)] : [];
  const programs = [o.agentBin, findOnPath('node', o.env.PATH)].filter((p): p is string => p !== null).map(real);
  // The private /tmp and TMPDIR cover what lies there on the host, as the hidden paths do.
  const covered = [...hide, '/tmp', ...privateDirs];
  const readOnlyBinds = [...new Set(programs.filter((p) => covered.some((h) => isInside(p, h))).map(installRoot))];
  return { bwrapBin: o.bwrapBin, hidePaths: [...new Set(hide)], privateDirs, agentState: agentState(o.agent, o.env), readOnlyBinds, extraPaths: o.extraPaths };
}
