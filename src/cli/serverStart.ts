/**
 * The running supervisor of this STATE_DIR, or one started now in the background: for commands
 * that serve a client which cannot start it itself (`agentvisor stdio`). The server is an ordinary
 * `agentvisor serve` in a session of its own, so it outlives the command that started it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../supervisor/config';
import { CliError, note } from './common';
import { type RunningServer, findServer } from './server';

export const ServerStartTimeouts = {
  /** A server starts in about a second (journal, token, listen); a loaded box may take many times that. */
  readyMs: 30_000,
  /** How often server.json and /health are looked at while it starts. */
  pollMs: 100,
} as const;

export async function findOrStartServer(config: Config, timeouts: typeof ServerStartTimeouts = ServerStartTimeouts): Promise<RunningServer> {
  const running = await findServer(config.STATE_DIR);
  if (running) return running;
  note(`no server runs for ${config.STATE_DIR}: starting agentvisor serve in the background`);
  const cli = path.join(__dirname, '..', 'cli.js');
  // Same environment and cwd, so it reads the same variables and .env; its output goes to its log file.
  const child = spawn(process.execPath, [cli, 'serve'], { detached: true, stdio: 'ignore', env: process.env });
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const deadline = Date.now() + timeouts.readyMs;
  for (;;) {
    // Another command may have started one at the same time: whichever answers is the server.
    const found = await findServer(config.STATE_DIR);
    if (found) return found;
    if (exited !== null || Date.now() > deadline) {
      const why = exited !== null ? `exited (${exited})` : `did not answer within ${timeouts.readyMs / 1000} s`;
      throw new CliError(`agentvisor serve ${why}; run agentvisor serve in a terminal to see why, or read ${path.join(config.STATE_DIR, 'logs')}`);
    }
    await new Promise((r) => setTimeout(r, timeouts.pollMs));
  }
}
