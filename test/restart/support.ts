/**
 * Shared pieces of the restart/crash tests: reading a whole session's output
 * through session_output pages, checking tick sequences, peeking at the
 * journal and at processes, and cleaning up.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, connect, leftovers, makeDirs, reapLeftovers, startServer, until } from '../helpers/server';

/** Settings every restart test wants: no rate limit in the way of paging, debug logs for post-mortems. */
export const BASE_ENV: Record<string, string> = {
  RATE_LIMIT_RPM: '1000000',
  LOG_LEVEL: 'debug',
};

export interface Page {
  sessionId: string;
  status: string;
  lines: string[];
  offset: number;
  nextOffset: number;
  dropped: number;
  hasMore: boolean;
  exitCode: number | null;
  completedSuccessfully: boolean | null;
  errorSummary: string | null;
}

/** Every line from offset 0, following nextOffset page by page (asserting pages join up with nothing dropped). */
export async function readAll(client: Client, sessionId: string, limit = 1_000): Promise<{ lines: string[]; last: Page }> {
  const lines: string[] = [];
  let since = 0;
  for (;;) {
    const page = await call<Page>(client, 'session_output', { sessionId, since, limit });
    if (page.dropped !== 0 || page.offset !== since) {
      throw new Error(`page at ${since} starts at ${page.offset} with ${page.dropped} dropped`);
    }
    lines.push(...page.lines);
    since = page.nextOffset;
    if (!page.hasMore || page.lines.length === 0) return { lines, last: page };
  }
}

/** The numbers of `tick <i> <ts>` lines, in order. */
export function tickNumbers(lines: string[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const m = /^tick (\d+) \d+$/.exec(l);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** Throws unless `nums` is exactly 0, 1, 2, … (no gap, no duplicate, no reordering). */
export function expectConsecutive(nums: number[], what = 'ticks'): void {
  for (let i = 0; i < nums.length; i++) {
    if (nums[i] !== i) {
      throw new Error(`${what}: expected ${i} at position ${i}, got ${nums[i]} (around: ${nums.slice(Math.max(0, i - 3), i + 3).join(',')})`);
    }
  }
}

export interface Row {
  id: string;
  status: string;
  worker_pid: number | null;
  worker_start_time: string | null;
  agent_pid: number | null;
  agent_start_time: string | null;
  end_reason: string | null;
  error_summary: string | null;
  exit_code: number | null;
  session_dir: string;
}

/** Runs `fn` on the journal opened read-only (WAL lets it read beside a live supervisor). */
export function withJournal<T>(dirs: Dirs, fn: (db: Database.Database) => T, opts: { readonly?: boolean } = { readonly: true }): T {
  const db = new Database(`${dirs.stateDir}/journal.db`, { readonly: opts.readonly ?? true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return fn(db);
  } finally {
    db.close();
  }
}

export function journalRow(dirs: Dirs, id: string): Row {
  return withJournal(dirs, (db) => db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as Row);
}

export function eventKinds(dirs: Dirs, id: string): string[] {
  return withJournal(dirs, (db) => (db.prepare('SELECT kind FROM events WHERE session_id = ? ORDER BY id').all(id) as Array<{ kind: string }>).map((r) => r.kind));
}

/** Live (non-zombie) process? */
export function alive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * Signals sent to a process and not yet acted on (the kernel's SigPnd and ShdPnd of /proc/<pid>/status,
 * as one mask), or null if it is gone. A kill() has taken effect or is pending the moment it returns, so
 * "alive with nothing pending" right after whatever might have signalled it means it was not signalled:
 * no need to wait and see whether it dies.
 */
export function pendingSignals(pid: number | null | undefined): bigint | null {
  if (!pid) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = (name: string) => BigInt('0x' + (new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? '0'));
    return mask('SigPnd') | mask('ShdPnd');
  } catch {
    return null;
  }
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), as the journal records it. */
export function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a supervisor on `dirs` and connects one client to it. */
export async function up(dirs: Dirs, env: Record<string, string> = {}): Promise<{ server: RunningServer; client: Client }> {
  const server = await startServer({ dirs, env: { ...BASE_ENV, ...env } });
  const client = await connect(server);
  return { server, client };
}

export interface RestartRig {
  /** This test's directories: new for each test, removed after it. */
  readonly dirs: Dirs;
  /** Starts a supervisor on the test's directories and connects one client; the end of the test stops both. */
  up(env?: Record<string, string>): Promise<{ server: RunningServer; client: Client }>;
}

/**
 * The set-up every restart test file shares: fresh directories before each
 * test; after it, `beforeCleanup` (for what the file itself started), then
 * every client and supervisor closed, anything left in the directories
 * killed, and the directories removed. Call once at the top of a file.
 */
export function restartRig(prefix: string, hooks: { beforeCleanup?: (dirs: Dirs) => void } = {}): RestartRig {
  let dirs: Dirs | undefined;
  const servers: RunningServer[] = [];
  const clients: Client[] = [];
  beforeEach(() => {
    dirs = makeDirs(prefix);
  });
  afterEach(async () => {
    if (!dirs) return;
    hooks.beforeCleanup?.(dirs);
    await cleanup(dirs, servers.splice(0), clients.splice(0));
    dirs = undefined;
  });
  return {
    get dirs(): Dirs {
      if (!dirs) throw new Error('restartRig: dirs exist only while a test runs');
      return dirs;
    },
    async up(env = {}) {
      const started = await up(this.dirs, env);
      servers.push(started.server);
      clients.push(started.client);
      return started;
    },
  };
}

/** Closes a client whose server may already be gone, never throwing. */
export async function closeQuietly(client: Client | undefined): Promise<void> {
  if (!client) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.close().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 2_000)))]);
  clearTimeout(timer);
}

export interface Started {
  sessionId: string;
  pid: number | null;
  status: string;
}

export async function startTick(client: Client, n: number, everyMs: number, cwd = 'p'): Promise<Started> {
  return call<Started>(client, 'session_start', { agent: 'codex', cwd, task: `tick ${n} ${everyMs}` });
}

/** How many lines a session has produced so far (a read from far past the end answers with the true next offset). */
export async function lineCount(client: Client, sessionId: string): Promise<number> {
  return (await call<Page>(client, 'session_output', { sessionId, since: Number.MAX_SAFE_INTEGER, limit: 1 })).nextOffset;
}

/** Waits until a session has ended and returns its final page. */
export async function waitEnded(client: Client, sessionId: string, timeoutMs = 30_000): Promise<Page> {
  let page: Page | undefined;
  await until(
    async () => {
      page = await call<Page>(client, 'session_output', { sessionId, since: 0, limit: 1 });
      return page.status !== 'running' && page.status !== 'killing';
    },
    timeoutMs,
    `session ${sessionId} to end`,
  );
  return page!;
}

/**
 * End-of-test cleanup: kills anything still tied to the dirs (reporting it),
 * waits for it to go, removes the temp dirs. Returns what was left over.
 */
/** `beforeRemove` runs once every process is gone and before the directories go (e.g. unmounting a tmpfs inside them). */
export async function cleanup(dirs: Dirs, servers: Array<RunningServer | undefined>, clients: Array<Client | undefined> = [], beforeRemove?: () => void): Promise<number[]> {
  for (const c of clients) await closeQuietly(c);
  for (const s of servers) if (s) await s.kill();
  const found = reapLeftovers(dirs);
  await until(() => leftovers(dirs).length === 0, 5_000, 'leftovers to die').catch(() => undefined);
  beforeRemove?.();
  fs.rmSync(dirs.base, { recursive: true, force: true });
  return found;
}

/** The last JSON log line on a supervisor's stderr whose message is `message`. */
export function logLine(stderr: string, message: string): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      if (obj.message === message) found = obj;
    } catch {
      // not a log line
    }
  }
  return found;
}

/**
 * Writes an executable stand-in agent (used as CODEX_BIN) that, unlike the
 * fake codex, survives the hang-up it gets when its worker dies: like a real
 * agent's long-running shell command, only an explicit kill ends it. Task
 * `tick N MS` prints `tick <i> <ts>` every MS ms, N times, then exits 0.
 */
export function writeHardyAgent(dirs: Dirs): string {
  const file = `${dirs.base}/bin/hardy-agent.js`;
  fs.mkdirSync(`${dirs.base}/bin`, { recursive: true });
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node
'use strict';
const fs = require('fs');
process.on('SIGHUP', () => undefined);
const args = process.argv.slice(2);
// --version / --help (agentvisor probes its agents at start-up): answer like a CLI and exit.
if (!args.includes('--')) { console.log('hardy-agent 0.0.0 (exec resume --sandbox --model)'); process.exit(0); }
const m = /^tick (\\d+) (\\d+)$/.exec(args[args.indexOf('--') + 1] || '');
if (!m) process.exit(2);
const [, n, ms] = m;
const say = (s) => { try { fs.writeSync(1, s); } catch { /* terminal gone: keep running */ } };
say('hardy agent\\n');
let i = 0;
const t = setInterval(() => {
  say('tick ' + i + ' ' + Date.now() + '\\n');
  if (++i >= Number(n)) { clearInterval(t); process.exit(0); }
}, Number(ms));
`,
    { mode: 0o755 },
  );
  return file;
}

/** Health detail (authenticated). */
export async function health(server: RunningServer): Promise<Record<string, unknown>> {
  const res = await fetch(server.url + '/health', { headers: { Authorization: `Bearer ${server.token}` } });
  return (await res.json()) as Record<string, unknown>;
}
