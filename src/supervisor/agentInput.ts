/**
 * Client text that reaches an agent's command line or environment must arrive
 * exactly as it was checked and journalled. Two things can silently break that:
 *
 * - A NUL byte: execve takes C strings, so the agent would get only the part
 *   before it (node-pty truncates without an error). Refused for every agent, so
 *   the rule does not depend on which one happens to read stdin.
 * - Length in bytes: Linux caps one argv string at MAX_ARG_STRLEN (131072 bytes
 *   with its NUL). Codex takes its prompt as one argument, and a task within the
 *   character limit can exceed that in UTF-8; the spawn would then fail with
 *   E2BIG after the session already exists. Refused up front with the numbers.
 */
import type { AgentKind } from '../shared/protocol';
import { sessionEnvRefusal } from './sessionEnvPolicy';

/** MAX_ARG_STRLEN less the terminating NUL. */
export const MAX_ARG_BYTES = 131_071;

export function agentTextProblem(agent: AgentKind, field: string, text: string): string | null {
  if (text.includes('\0')) return `${field} contains a NUL byte, which cannot be passed to an agent. Remove it.`;
  if (agent === 'codex') {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_ARG_BYTES) {
      return `${field} is ${bytes} bytes in UTF-8, but Codex takes it as one command-line argument, which Linux limits to ${MAX_ARG_BYTES} bytes. Shorten it.`;
    }
  }
  return null;
}

/** A session env that breaks the session env policy (sessionEnvPolicy.ts) or cannot be passed; null if fine. */
export function agentEnvProblem(env: Record<string, string> | undefined, operatorAllow?: string): string | null {
  for (const [name, value] of Object.entries(env ?? {})) {
    const refusal = sessionEnvRefusal(name, operatorAllow);
    if (refusal) return refusal;
    if (value.includes('\0')) return `env.${name} contains a NUL byte, which an environment variable cannot hold. Remove it.`;
  }
  return null;
}
