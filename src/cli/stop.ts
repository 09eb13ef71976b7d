/** `agentvisor stop`: stops the running server through its admin endpoint and waits until it has exited. */
import { CliTimeouts } from './cliTimeouts';
import { CliError, intOption, note, operatorConfig, out, parseCommand } from './common';
import { isEnded, openJournal, sessionView } from './journalView';
import { adminPost, findServer, serverAlive } from './server';

export const USAGE = `usage: agentvisor stop [--kill-sessions] [--timeout S]

Stops the running server (POST /admin/stop with the operator's token) and waits
until its process has exited. Running sessions keep running in their workers and
are picked up again by the next start, unless --kill-sessions is given.

options:
  --kill-sessions   end every running session first (SIGTERM, SIGKILL after KILL_GRACE)
  --timeout S       give up waiting after S seconds (default 60)
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { 'kill-sessions': { type: 'boolean' }, timeout: { type: 'string' } }, { min: 0, max: 0 });
  if (!args) return;
  const killSessions = Boolean(args.values['kill-sessions']);
  const timeoutMs = intOption(args.values.timeout, 'timeout', CliTimeouts.giveUpS) * 1000;
  const config = operatorConfig();
  const server = await findServer(config.STATE_DIR);
  if (!server) {
    if (killSessions) {
      let live = 0;
      try {
        const journal = openJournal(config.STATE_DIR);
        try {
          live = journal.live().filter((row) => !isEnded(sessionView(row, false).status)).length;
        } finally {
          journal.close();
        }
      } catch {
        // no journal: no sessions
      }
      if (live > 0) {
        throw new CliError(
          `the server is not running, and ${live} session(s) still have live workers: start the server and run agentvisor stop --kill-sessions, ` +
            'or leave them to end by themselves after ORPHAN_TIMEOUT',
        );
      }
    }
    out('agentvisor is not running\n');
    return;
  }
  const reply = await adminPost(config, server, 'stop', { killSessions });
  const deadline = Date.now() + timeoutMs;
  while (serverAlive(server)) {
    if (Date.now() > deadline) {
      throw new CliError(`the server (pid ${server.pid}) is still running ${timeoutMs / 1000} s after it was asked to stop; see ${config.STATE_DIR}/logs/agentvisor.log`);
    }
    await new Promise((r) => setTimeout(r, CliTimeouts.stopPollMs));
  }
  out(`stopped agentvisor (pid ${server.pid})` + (killSessions ? '; every session was ended\n' : '; running sessions keep running and re-attach at the next start\n'));
  if (reply?.managedBy === 'pm2') note('the server runs under pm2, which may start it again: use pm2 stop to keep it stopped');
}
