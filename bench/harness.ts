/**
 * The bench's side of the shared harness (harness/server.ts): a supervisor
 * with the bench agent and limits sized for hundreds of sessions, clients on
 * the transport BENCH_TRANSPORT picks, and a small concurrency pool.
 */
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, type Transport, ROOT, connect as connectTo, makeDirs as makeTempDirs, startSupervisor } from '../harness/server';

export { CLI, type Dirs, ROOT, call, killPids, leftovers, sleep } from '../harness/server';
export type Server = RunningServer;

/** Both agents: a shell front (answers "idle" at once) for bench-agent.js. */
export const BENCH_AGENT = path.join(ROOT, 'bench/fixtures/bench-agent.sh');
export const TOKEN = 'bench-token-0123456789abcdef0123456789';
/** A long bench logs far more than anyone reads after a failure. */
const STDERR_TAIL_CHARS = 100_000;

export function makeDirs(prefix = 'agentvisor-bench-'): Dirs {
  return makeTempDirs(prefix);
}

export function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CLAUDE_BIN: BENCH_AGENT,
    CODEX_BIN: BENCH_AGENT,
    LOG_LEVEL: 'info',
    RATE_LIMIT_RPM: '1000000',
    MAX_SESSIONS: '500',
    MAX_SSE_CONNECTIONS: '500',
    WORKER_READY_TIMEOUT: '60000',
    // A crashed bench must not leave workers behind for long.
    ORPHAN_TIMEOUT: '120000',
    // The bench agent's --help lists app-server; the main rows measure the exec path (a PTY), the app-server rows their own server.
    CODEX_PROTOCOL: 'exec',
    ...extra,
  };
}

export async function startServer(dirs: Dirs, extra: Record<string, string> = {}): Promise<Server> {
  // BENCH_CPU_PROF_DIR: profile the supervisor (written when it is stopped with SIGTERM, not on SIGKILL).
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  // Only loopback, ever: the bench runs hundreds of sessions with a token anyone could read here.
  return startSupervisor({ dirs, token: TOKEN, env: serverEnv(extra), nodeArgs: prof, stderrTailChars: STDERR_TAIL_CHARS, requireLoopback: true });
}

/** BENCH_TRANSPORT=sse|http picks the MCP transport of every client (default: SSE, the cheaper of the two per call here). */
export const TRANSPORT: Transport = process.env.BENCH_TRANSPORT === 'http' ? 'http' : 'sse';

export async function connect(url: string, transport: Transport = TRANSPORT): Promise<Client> {
  return connectTo({ url, token: TOKEN }, transport, 'agentvisor-bench');
}

export async function health(url: string): Promise<Record<string, any>> {
  const res = await fetch(url + '/health', { headers: { Authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as Record<string, any>;
}

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
