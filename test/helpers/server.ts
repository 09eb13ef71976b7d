/**
 * Starts the real supervisor (compiled dist/, a real process on a random port
 * with a temporary STATE_DIR and workspace) and connects real MCP SDK clients
 * to it. Tests stop everything they start; `leftovers` finds any worker or
 * agent process that outlived its test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/src/cli.js');
export const FAKE_CLAUDE = path.join(ROOT, 'test/fixtures/fake-claude.js');
export const FAKE_CODEX = path.join(ROOT, 'test/fixtures/fake-codex.js');

export interface Dirs {
  base: string;
  stateDir: string;
  workspace: string;
}

export function makeDirs(prefix = 'agentvisor-test-'): Dirs {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  const stateDir = path.join(base, 'state');
  const workspace = path.join(base, 'ws');
  fs.mkdirSync(workspace, { recursive: true });
  return { base, stateDir, workspace };
}

export interface RunningServer {
  proc: ChildProcess;
  url: string;
  token: string;
  dirs: Dirs;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export const TEST_TOKEN = 'test-token-0123456789abcdef0123456789';

/** `command` replaces `node dist/src/cli.js serve` (the package test runs an installed `agentvisor serve`). */
export async function startServer(opts: { dirs?: Dirs; env?: Record<string, string>; port?: number; command?: string[] } = {}): Promise<RunningServer> {
  const dirs = opts.dirs ?? makeDirs();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dirs.base,
    AUTH_TOKEN: TEST_TOKEN,
    PORT: String(opts.port ?? 0),
    HOST: '127.0.0.1',
    STATE_DIR: dirs.stateDir,
    WORKSPACE_DIR: dirs.workspace,
    CLAUDE_BIN: FAKE_CLAUDE,
    CODEX_BIN: FAKE_CODEX,
    CHILD_ENV_IS_SANDBOX: '1',
    LOG_LEVEL: 'debug',
    // Tests call tools far faster than a person; the rate-limit test sets its own.
    RATE_LIMIT_RPM: '100000',
    ...opts.env,
  };
  const [command, ...args] = opts.command ?? [process.execPath, CLI, 'serve'];
  const proc = spawn(command, args, { env, cwd: dirs.base, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: start-up re-attaches to every live worker, and a loaded 2-core CI box is slow.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    proc,
    url,
    token: env.AUTH_TOKEN,
    dirs,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export async function connect(server: { url: string; token: string }, transport: 'sse' | 'http' = 'sse'): Promise<Client> {
  const client = new Client({ name: 'agentvisor-test', version: '1.0.0' });
  const headers = { Authorization: `Bearer ${server.token}` };
  const t =
    transport === 'sse'
      ? new SSEClientTransport(new URL(server.url + '/sse'), {
          requestInit: { headers },
          eventSourceInit: {
            fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
          },
        })
      : new StreamableHTTPClientTransport(new URL(server.url + '/mcp'), { requestInit: { headers } });
  await client.connect(t);
  return client;
}

/** Calls a tool and returns its structured result; throws with the text if the tool reported an error. */
export async function call<T = any>(client: Client, name: string, args: Record<string, unknown> = {}, timeout = 60_000): Promise<T> {
  const res = await client.callTool({ name, arguments: args }, undefined, { timeout });
  if (res.isError) throw new Error(`${name} failed: ${(res.content as Array<{ text: string }>)[0]?.text}`);
  return res.structuredContent as T;
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

/**
 * Pids of processes tied to a test's directories: workers (by their spec path),
 * agents (by cwd) and supervisors (started in the test's base dir), except `keep`.
 */
export function leftovers(dirs: Dirs, keep: number[] = []): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || keep.includes(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not ours to read
      }
      if (cmd.includes(dirs.base) || cwd.startsWith(dirs.base)) found.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Kills whatever `leftovers` finds (so one failing test cannot leak into the next) and returns what it found. */
export function reapLeftovers(dirs: Dirs): number[] {
  const pids = leftovers(dirs);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}

export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
