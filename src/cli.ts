#!/usr/bin/env node
/** `agentvisor <command>`: the package's bin. Each command lives in its own module. */
import { main as serve } from './supervisor/main';

const USAGE = `usage: agentvisor <command>

commands:
  serve     run the supervisor in the foreground (configured by environment variables; see README)
`;

async function run(argv: string[]): Promise<void> {
  const [cmd] = argv;
  switch (cmd) {
    case 'serve':
      await serve();
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`agentvisor: unknown command "${cmd}"\n${USAGE}`);
      process.exitCode = 2;
  }
}

void run(process.argv.slice(2));
