/** `agentvisor serve`: the supervisor in the foreground; `--help` lists every variable with its default. */
import type { z } from 'zod';
import { CONFIG_VARS } from '../supervisor/config';
import { parseCommand } from './common';
import { table } from './format';

function defaultOf(schema: z.ZodType): string {
  const r = schema.safeParse(undefined);
  return r.success && r.data !== undefined ? String(r.data) : '-';
}

export function usage(): string {
  const rows = Object.entries(CONFIG_VARS).map(([name, v]) => [name, defaultOf(v.schema as z.ZodType), v.help]);
  rows.push(['CHILD_ENV_<NAME>', '-', 'passed to every agent as <NAME> (e.g. CHILD_ENV_IS_SANDBOX=1)']);
  rows.push(['AGENTVISOR_KILL_SESSIONS_ON_EXIT', '-', '1: SIGTERM/SIGINT also end every session (default: sessions outlive the server)']);
  return `usage: agentvisor serve

Runs the supervisor in the foreground: MCP over SSE (/sse) and Streamable HTTP
(/mcp) on HOST:PORT, one detached worker per session, journal in STATE_DIR.
SIGTERM/SIGINT stop it and leave sessions running; SIGUSR2 stops it and ends
every session. Configured by environment variables (a .env file in the current
directory is read too; the real environment wins):

${table(['VARIABLE', 'DEFAULT', 'MEANING'], rows)}

Timeouts not listed here are fixed; each says why where it is defined
(src/shared/constants.ts, or the module it belongs to).`;
}

export async function run(argv: string[]): Promise<void> {
  if (!parseCommand(argv, usage(), {}, { min: 0, max: 0 })) return;
  // Loaded only now: the server's modules (Express, the MCP server, the pool) are not needed by --help.
  const { main } = await import('../supervisor/main.js');
  await main();
}
