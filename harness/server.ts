/**
 * The one test harness, shared by the tests (run from source by ts-jest) and
 * `npm run bench` (compiled to dist/harness/): starts the real supervisor
 * (compiled dist/, a real process on a random loopback port with throw-away
 * directories), connects real MCP SDK clients to it, and finds every process
 * a run left behind. Callers stop everything they start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** Generous: start-up re-attaches to every live worker, and a loaded 2-core box is slow. */
export const SERVER_START_TIMEOUT_MS = 60_000;
/** How often `until` re-checks its predicate: short enough to add little to a wait, long enough not to spin. */
export const UNTIL_POLL_MS = 25;

/**
 * The repository root: the nearest folder above this file with a package.json.
 * This file runs both as harness/server.ts (ts-jest) and dist/harness/server.js (bench),
 * so a fixed number of `..` would be right for only one of them.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
export const CLI = path.join(ROOT, 'dist/src/cli.js');

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
  /** ms from spawn to the "listening" line. */
  startupMs: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** Signal (SIGKILL unless told) and wait for exit. */
  kill(sig?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  dirs: Dirs;
  token: string;
  /** Everything beyond the settings every run needs (paths, token, loopback, random port). */
  env?: Record<string, string>;
  port?: number;
  /** Node options before the CLI (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Replaces `node dist/src/cli.js serve` (the package test runs an installed `agentvisor serve`). */
  command?: string[];
  /** Keep only this many trailing characters of stderr (a long bench logs far more than anyone reads). */
  stderrTailChars?: number;
  /** Refuse (and stop) a supervisor that listens anywhere but 127.0.0.1; tests of HOST=0.0.0.0 leave it off. */
  requireLoopback?: boolean;
  /** Descriptors the supervisor inherits from fd 3 on (e.g. to show one never reaches an agent). */
  extraStdio?: Array<'ignore' | number>;
}

export async function startSupervisor(opts: StartOptions): Promise<RunningServer> {
  const { dirs, token } = opts;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dirs.base,
    AUTH_TOKEN: token,
    PORT: String(opts.port ?? 0),
    HOST: '127.0.0.1',
    STATE_DIR: dirs.stateDir,
    WORKSPACE_DIR: dirs.workspace,
    CHILD_ENV_IS_SANDBOX: '1',
    ...opts.env,
  };
  const t0 = performance.now();
  const [command, ...args] = opts.command ?? [process.execPath, ...(opts.nodeArgs ?? []), CLI, 'serve'];
  const proc = spawn(command, args, { env, cwd: dirs.base, stdio: ['ignore', 'pipe', 'pipe', ...(opts.extraStdio ?? [])] });
  let out = '';
  let err = '';
  const tail = opts.stderrTailChars;
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (tail !== undefined && err.length > tail) err = err.slice(-tail);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let gaveUp: Error | undefined;
    const timer = setTimeout(() => {
      // Not left running behind the failure (the caller never gets a handle to stop it): rejected once it has exited.
      gaveUp = new Error(`server did not start:\n${out}\n${err.slice(-4000)}`);
      proc.kill('SIGKILL');
    }, SERVER_START_TIMEOUT_MS);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(gaveUp ?? new Error(`server exited with ${code}:\n${out}\n${err.slice(-4000)}`));
    });
  });
  const startupMs = performance.now() - t0;
  const kill = async (sig: NodeJS.Signals = 'SIGKILL') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  if (opts.requireLoopback && !url.startsWith('http://127.0.0.1:')) {
    await kill();
    throw new Error(`refusing non-loopback url ${url}`);
  }
  return {
    proc,
    url,
    token,
    dirs,
    startupMs,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    kill,
  };
}

export type Transport = 'sse' | 'http';

export async function connect(server: { url: string; token: string }, transport: Transport = 'sse', name = 'agentvisor-test', options?: ClientOptions): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, options);
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
  try {
    await client.connect(t);
  } catch (err) {
    // A failed connect leaves the SSE transport's EventSource retrying for ever (and the test
    // process alive after its last test): close it before reporting the failure.
    await t.close().catch(() => undefined);
    throw err;
  }
  return client;
}

/** Calls a tool and returns its structured result; throws with the text if the tool reported an error. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function call<T = any>(client: Client, name: string, args: Record<string, unknown> = {}, timeout = 60_000): Promise<T> {
  const res = await client.callTool({ name, arguments: args }, undefined, { timeout });
  if (res.isError) throw new Error(`${name} failed: ${(res.content as Array<{ text: string }>)[0]?.text}`);
  return res.structuredContent as T;
}

/**
 * Pids of processes tied to a run's directories: workers (by their spec path),
 * agents (by cwd) and supervisors (started in the base dir), except `keep`.
 */
export function leftovers(dirs: { base: string }, keep: number[] = []): number[] {
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

export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills whatever `leftovers` finds (so one failing run cannot leak into the next) and returns what it found. */
export function reapLeftovers(dirs: { base: string }): number[] {
  const pids = leftovers(dirs);
  killPids(pids);
  return pids;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `pred` until it holds; for state that has no event to wait on (a process gone, a file written). */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition', stepMs = UNTIL_POLL_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}
