/**
 * Finding each agent's executable: CLAUDE_BIN / CODEX_BIN if set, else PATH.
 * Resolved per session_start so an agent installed while we run is found, and
 * a missing one is a clear error before any worker is spawned.
 */
import path from 'node:path';
import { findOnPath, isExecutableFile } from '../shared/findExecutable';
import type { AgentKind } from '../shared/protocol';

export const AGENT_BINARY: Record<AgentKind, { name: string; envVar: string; pkg: string }> = {
  'claude-code': { name: 'claude', envVar: 'CLAUDE_BIN', pkg: '@anthropic-ai/claude-code' },
  codex: { name: 'codex', envVar: 'CODEX_BIN', pkg: '@openai/codex' },
};

export type Resolved = { ok: true; path: string } | { ok: false; error: string };

export function resolveAgentBinary(agent: AgentKind, configured: string | undefined, pathVar: string | undefined): Resolved {
  const b = AGENT_BINARY[agent];
  if (configured) {
    const p = path.resolve(configured);
    return isExecutableFile(p) ? { ok: true, path: p } : { ok: false, error: `${b.envVar}=${configured} is not an executable file. Fix ${b.envVar} or unset it to search PATH.` };
  }
  const found = findOnPath(b.name, pathVar);
  if (found) return { ok: true, path: found };
  return {
    ok: false,
    error: `${b.name} was not found on PATH. Install it (npm install -g ${b.pkg}) or set ${b.envVar} to its path.`,
  };
}
