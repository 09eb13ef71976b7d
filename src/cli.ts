#!/usr/bin/env node
/**
 * `agentvisor <command>`: the package's bin. Each command lives in its own
 * module under cli/, loaded only when it runs (the server's modules stay out of
 * `agentvisor sessions`). Errors are one line on stderr and a non-zero exit.
 */
import { CliError, USAGE_EXIT, VERSION, scrub } from './cli/common';
import { terminalText } from './shared/sanitize';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<void> }>;
}

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the supervisor in the foreground (serve --help lists every variable)', load: () => import('./cli/serve.js') },
  sessions: { summary: 'list sessions from the journal (works while the server is down)', load: () => import('./cli/sessions.js') },
  show: { summary: "one session's metadata and event history", load: () => import('./cli/show.js') },
  logs: { summary: "a session's output; --follow until it ends", load: () => import('./cli/logs.js') },
  kill: { summary: 'end a session through the running server', load: () => import('./cli/kill.js') },
  approvals: { summary: 'permission requests mode ask sessions wait on (--json)', load: () => import('./cli/approvals.js') },
  approve: { summary: 'answer one: approve <session> <approval> allow|allow-session|deny', load: () => import('./cli/approve.js') },
  stop: { summary: 'stop the running server (--kill-sessions ends every session too)', load: () => import('./cli/stop.js') },
  doctor: { summary: 'check this host and explain how to fix what is wrong', load: () => import('./cli/doctor.js') },
  stdio: { summary: 'an MCP server on stdin/stdout for local-command clients, relaying to the running server (started if none runs)', load: () => import('./cli/stdio.js') },
  ui: { summary: "print the web dashboard's URL", load: () => import('./cli/ui.js') },
  token: { summary: 'print the client configuration with the token; --rotate replaces it', load: () => import('./cli/token.js') },
};

const USAGE = `usage: agentvisor <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Every command takes --help. Commands read the same environment (and .env) as
serve, so STATE_DIR, HOST and PORT find the same server.
`;

async function run(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) throw new CliError(`unknown command "${cmd}" (agentvisor --help lists the commands)`, USAGE_EXIT);
  try {
    await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof CliError) throw new CliError(`${cmd}: ${err.message}`, err.exitCode);
    throw err;
  }
}

// `agentvisor logs … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

run(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(terminalText(`agentvisor: ${scrub(message)}`) + '\n');
  if (process.env.AGENTVISOR_DEBUG === '1' && err instanceof Error && !(err instanceof CliError)) process.stderr.write(terminalText(scrub(err.stack ?? '')) + '\n');
  process.exitCode = err instanceof CliError ? err.exitCode : 1;
});
