/** `agentvisor kill <id>`: ends a session through the running server (MCP session_kill) and waits until it is gone. */
import { CliTimeouts } from './cliTimeouts';
import { CliError, intOption, operatorConfig, out, parseCommand } from './common';
import { printJson } from './format';
import { findSession, isEnded, openJournal } from './journalView';
import { ToolFailed, connectMcp, requireServer } from './server';

export const USAGE = `usage: agentvisor kill <id> [--no-wait] [--timeout S] [--json]

Ends a session through the running server: SIGTERM to the agent and everything
it started, SIGKILL after KILL_GRACE. Waits until the agent is gone. Uses the
operator's token (AUTH_TOKEN, else STATE_DIR/token). <id> may be any unique
prefix of the session id.

options:
  --no-wait     return as soon as the server has sent the signal
  --timeout S   give up waiting after S seconds (default 60)
  --json        the session's final info as JSON
`;

interface Info {
  sessionId: string;
  status: string;
  exitCode: number | null;
  signal: string | null;
  note?: string;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { 'no-wait': { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1 });
  if (!args) return;
  const timeoutMs = intOption(args.values.timeout, 'timeout', CliTimeouts.giveUpS) * 1000;
  const config = operatorConfig();
  const journal = openJournal(config.STATE_DIR);
  let id: string;
  try {
    id = findSession(journal, args.positionals[0]).id;
  } finally {
    journal.close();
  }
  const server = await requireServer(config);
  const mcp = await connectMcp(config, server);
  let info: Info;
  try {
    info = await mcp.call<Info>('session_kill', { sessionId: id });
    const deadline = Date.now() + timeoutMs;
    while (!args.values['no-wait'] && !isEnded(info.status)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new CliError(`session ${id.slice(0, 8)} is still ${info.status} after ${timeoutMs / 1000} s; see agentvisor show ${id.slice(0, 8)}`);
      // Returns at once when the session ends (session_wait answers ended sessions immediately).
      const page = await mcp.call<{ status: string }>('session_wait', { sessionId: id, timeoutMs: Math.min(left, CliTimeouts.killWaitSliceMs), limit: 1 }, left + CliTimeouts.callSlackMs);
      if (isEnded(page.status)) {
        const { sessions } = await mcp.call<{ sessions: Info[] }>('session_list', {});
        info = sessions.find((s) => s.sessionId === id) ?? { ...info, status: page.status };
      }
    }
  } catch (err) {
    if (err instanceof ToolFailed) throw new CliError(err.message);
    throw err;
  } finally {
    await mcp.close();
  }
  if (args.values.json) return printJson(info);
  const how = info.signal ? ` (${info.signal})` : info.exitCode !== null ? ` (exit ${info.exitCode})` : '';
  out(info.note ? `${id}: ${info.note}\n` : `${id}: ${info.status}${how}\n`);
}
