/**
 * The tests' side of the shared harness (harness/server.ts): a supervisor
 * with the fake agents, debug logs and the test token, plus the helpers only
 * tests use. Tests stop everything they start; `leftovers` finds any worker
 * or agent process that outlived its test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, ROOT, makeDirs, startSupervisor } from '../../harness/server';

export { CLI, type Dirs, type RunningServer, ROOT, call, connect, leftovers, makeDirs, reapLeftovers, until } from '../../harness/server';

export const FAKE_CLAUDE = path.join(ROOT, 'test/fixtures/fake-claude.js');
export const FAKE_CODEX = path.join(ROOT, 'test/fixtures/fake-codex.js');

export const TEST_TOKEN = 'test-token-0123456789abcdef0123456789';

export async function startServer(opts: { dirs?: Dirs; env?: Record<string, string>; port?: number; extraStdio?: Array<'ignore' | number>; command?: string[] } = {}): Promise<RunningServer> {
  const dirs = opts.dirs ?? makeDirs();
  const started = startSupervisor({
    dirs,
    token: opts.env?.AUTH_TOKEN ?? TEST_TOKEN,
    port: opts.port,
    extraStdio: opts.extraStdio,
    command: opts.command,
    env: {
      CLAUDE_BIN: FAKE_CLAUDE,
      CODEX_BIN: FAKE_CODEX,
      LOG_LEVEL: 'debug',
      // Tests call tools far faster than a person; the rate-limit test sets its own.
      RATE_LIMIT_RPM: '100000',
      ...opts.env,
    },
  });
  // Directories made here have no other owner to remove them when the supervisor fails to start.
  if (!opts.dirs) started.catch(() => fs.rmSync(dirs.base, { recursive: true, force: true }));
  return started;
}

/** Calls a tool that is expected to fail; returns its error text. */
export async function callError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  try {
    const res = await client.callTool({ name, arguments: args });
    if (!res.isError) throw new Error(`${name} unexpectedly succeeded: ${JSON.stringify(res.structuredContent)}`);
    return (res.content as Array<{ text: string }>)[0]?.text ?? '';
  } catch (err) {
    // Argument validation failures may arrive as JSON-RPC errors rather than tool results.
    if ((err as Error).message.includes('unexpectedly succeeded')) throw err;
    return (err as Error).message;
  }
}
