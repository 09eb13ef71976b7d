/**
 * Starting the real supervisor (compiled dist/) on 127.0.0.1 with throw-away
 * directories, MCP SDK clients for it, and finding every process the bench
 * left behind. Adapted from test/helpers/server.ts (test/ is not compiled).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** Repository root (this file runs as dist/bench/harness.js). */
export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/src/cli.js');
/** Both agents: a shell front (answers "idle" at once) for bench-agent.js. */
export const BENCH_AGENT = path.join(ROOT, 'bench/fixtures/bench-agent.sh');
export const TOKEN = 'bench-token-0123456789abcdef0123456789';

export interface Dirs {
  base: string;
  stateDir: string;
  workspace: string;
}

export function makeDirs(prefix = 'agentvisor-bench-'): Dirs {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  const stateDir = path.join(base, 'state');
  const workspace = path.join(base, 'ws');
  fs.mkdirSync(workspace, { recursive: true });
  return { base, stateDir, workspace };
}

export interface Server {
  proc: ChildProcess;
  url: string;
  /** ms from spawn to the "listening" line. */
  startupMs: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code/signal once the process is gone. */
  exited: Promise<void>;
  kill(sig?: NodeJS.Signals): Promise<void>;
}

export function serverEnv(dirs: Dirs, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dirs.base,
    AUTH_TOKEN: TOKEN,
    PORT: '0',
    HOST: '127.0.0.1',
    STATE_DIR: dirs.stateDir,
    WORKSPACE_DIR: dirs.workspace,
    CLAUDE_BIN: BENCH_AGENT,
    CODEX_BIN: BENCH_AGENT,
    CHILD_ENV_IS_SANDBOX: '1',
    LOG_LEVEL: 'info',
    RATE_LIMIT_RPM: '1000000',
    MAX_SESSIONS: '500',
    MAX_SSE_CONNECTIONS: '500',
    WORKER_READY_TIMEOUT: '60000',
    // A crashed bench must not leave workers behind for long.
    ORPHAN_TIMEOUT: '120000',
    ...extra,
  };
}

export async function startServer(dirs: Dirs, extra: Record<string, string> = {}): Promise<Server> {
  const env = serverEnv(dirs, extra);
  const t0 = performance.now();
  // BENCH_CPU_PROF_DIR: profile the supervisor (written when it is stopped with SIGTERM, not on SIGKILL).
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const proc = spawn(process.execPath, [...prof, CLI, 'serve'], {
    env,
    cwd: dirs.base,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d.length > 100_000 ? d.slice(-100_000) : d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`supervisor did not start:\n${out}\n${err.slice(-4000)}`)), 30_000);
    const onData = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`supervisor exited with ${code}:\n${out}\n${err.slice(-4000)}`));
    });
  });
  // Only loopback, ever.
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`refusing non-loopback url ${url}`);
  return {
    proc,
    url,
    startupMs: performance.now() - t0,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill(sig: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      await exited;
    },
  };
}

export type Transport = 'sse' | 'http';

/** BENCH_TRANSPORT=sse|http picks the MCP transport of every client (default: SSE, the cheaper of the two per call here). */
export const TRANSPORT: Transport = process.env.BENCH_TRANSPORT === 'http' ? 'http' : 'sse';

export async function connect(url: string, transport: Transport = TRANSPORT): Promise<Client> {
  const client = new Client({ name: 'agentvisor-bench', version: '1.0.0' });
  const headers = { Authorization: `Bearer ${TOKEN}` };
  const t =
    transport === 'sse'
      ? new SSEClientTransport(new URL(url + '/sse'), {
          requestInit: { headers },
          eventSourceInit: {
            fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
          },
        })
      : new StreamableHTTPClientTransport(new URL(url + '/mcp'), { requestInit: { headers } });
  await client.connect(t);
  return client;
}

/** Calls a tool and returns its structured result; throws with the text if the tool reported an error. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function call<T = any>(client: Client, name: string, args: Record<string, unknown> = {}, timeout = 120_000): Promise<T> {
  const res = await client.callTool({ name, arguments: args }, undefined, { timeout });
  if (res.isError) throw new Error(`${name} failed: ${(res.content as Array<{ text: string }>)[0]?.text}`);
  return res.structuredContent as T;
}

export async function health(url: string): Promise<Record<string, any>> {
  const res = await fetch(url + '/health', { headers: { Authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as Record<string, any>;
}

/** Pids of processes whose argv or cwd lies under `base` (supervisors, workers, agents), bar `keep`. */
export function leftovers(base: string, keep: number[] = []): number[] {
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
      if (cmd.includes(base) || cwd.startsWith(base)) found.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition', stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
