/**
 * Runs the compiled CLI (`node dist/src/cli.js …`) the way an operator does:
 * its own process, argv array, an explicit environment, cwd in the test's base
 * directory (so no .env of the project is read).
 */
import { spawn } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CLI, type Dirs, FAKE_CLAUDE, FAKE_CODEX, call, until } from '../helpers/server';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The variables a server started by startServer() sees, minus AUTH_TOKEN (pass it in `extra` when wanted). */
export function cliEnv(dirs: Dirs, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dirs.base,
    STATE_DIR: dirs.stateDir,
    WORKSPACE_DIR: dirs.workspace,
    CLAUDE_BIN: FAKE_CLAUDE,
    CODEX_BIN: FAKE_CODEX,
    CHILD_ENV_IS_SANDBOX: '1',
    ...extra,
  };
}

export function runCli(args: string[], env: Record<string, string>, cwd: string, opts: { timeoutMs?: number; onStdout?: (soFar: string) => void } = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(stdout);
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`agentvisor ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Waits until a session has ended, through MCP. */
export async function waitEnded(client: Client, sessionId: string, timeoutMs = 15_000): Promise<any> {
  let page: any;
  await until(
    async () => {
      page = await call(client, 'session_wait', { sessionId, timeoutMs: 2_000, since: 0, limit: 1 });
      return !['running', 'killing'].includes(page.status);
    },
    timeoutMs,
    `session ${sessionId} to end`,
  );
  return page;
}

/** The lines of a text output, without the trailing empty one. */
export const lines = (text: string) => text.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
