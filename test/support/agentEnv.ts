/**
 * Runs agentvisor against the REAL `claude` and `codex` CLIs (node_modules/.bin), pointed at a
 * scripted local ModelServer: fully offline, deterministic, and with nothing of the host's own
 * credentials or configuration reaching the agents.
 *
 * agentvisor passes no provider flags to the agents, so everything they need travels the way an
 * operator would configure it: CLAUDE_BIN / CODEX_BIN for the binaries, CHILD_ENV_* variables for
 * the agents' environment, and a `$CODEX_HOME/config.toml` that selects the local provider.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, ROOT, type RunningServer, call, callError, connect, leftovers, makeDirs, reapLeftovers, startServer, until } from '../helpers/server';
import { ModelServer, type ScriptTurn } from './modelServer';
import { isEnded } from '../../src/shared/sessionStatus';

export const CLAUDE_REAL = path.join(ROOT, 'node_modules/.bin/claude');
export const CODEX_REAL = path.join(ROOT, 'node_modules/.bin/codex');

export interface RealAgentOptions {
  /** Model API base URL the agents use (default: the ModelServer's). */
  modelUrl: string;
  /** Scratch HOME shared by every agent of this server (claude keeps its transcripts under it). */
  home: string;
  /** Scratch CODEX_HOME; its config.toml is written here. */
  codexHome: string;
  /** The agents' TMPDIR. */
  tmpDir: string;
  /** 0 makes a scripted error surface on the first attempt (both CLIs retry even a 401). */
  maxRetries?: number;
  /** Opt in to --dangerously-skip-permissions as root (default true: these tests run as root). */
  sandbox?: boolean;
}

/**
 * The codex configuration agentvisor's operator would write. The keys are the config.toml
 * equivalents of the CLI options `-c model_provider=local -c model_providers.local={…}
 * -c analytics.enabled=false --disable plugins` (`--disable X` is `[features] X = false`).
 */
export function codexConfigToml(modelUrl: string, maxRetries?: number): string {
  const lines = ['model_provider = "local"', '', '[model_providers.local]', 'name = "local"', `base_url = ${JSON.stringify(modelUrl + '/v1')}`, 'env_key = "OPENAI_API_KEY"', 'wire_api = "responses"'];
  if (maxRetries !== undefined) lines.push(`request_max_retries = ${maxRetries}`, `stream_max_retries = ${maxRetries}`);
  // No startup traffic to ab.chatgpt.com (analytics) or github.com / chatgpt.com (plugin sync).
  lines.push('', '[analytics]', 'enabled = false', '', '[features]', 'plugins = false', '');
  return lines.join('\n');
}

/**
 * The supervisor environment for real agents: binaries, then CHILD_ENV_* (prefix stripped, given
 * to every agent). Writes `$CODEX_HOME/config.toml`.
 */
export function realAgentServerEnv(o: RealAgentOptions): Record<string, string> {
  fs.mkdirSync(o.home, { recursive: true });
  fs.mkdirSync(o.codexHome, { recursive: true });
  fs.mkdirSync(o.tmpDir, { recursive: true });
  fs.writeFileSync(path.join(o.codexHome, 'config.toml'), codexConfigToml(o.modelUrl, o.maxRetries));
  const env: Record<string, string> = {
    CLAUDE_BIN: CLAUDE_REAL,
    CODEX_BIN: CODEX_REAL,
    // The supervisor runs the CLIs too (`--version`/`--help` capability detection): keep those
    // off the host's home as well.
    HOME: o.home,
    CODEX_HOME: o.codexHome,
    CHILD_ENV_HOME: o.home,
    CHILD_ENV_CODEX_HOME: o.codexHome,
    // claude: Anthropic API at the model server, a dummy key, and no traffic anywhere else.
    CHILD_ENV_ANTHROPIC_BASE_URL: o.modelUrl,
    CHILD_ENV_ANTHROPIC_API_KEY: 'sk-ant-test',
    CHILD_ENV_CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CHILD_ENV_DISABLE_AUTOUPDATER: '1',
    CHILD_ENV_DISABLE_TELEMETRY: '1',
    CHILD_ENV_DISABLE_ERROR_REPORTING: '1',
    // codex: the key its provider's env_key names.
    CHILD_ENV_OPENAI_API_KEY: 'sk-test',
    // Codex warns (and skips its helper-binary PATH aliases) when CODEX_HOME is under the temp
    // dir, as the tests' scratch dirs are: a TMPDIR of their own keeps the output as a user sees it.
    CHILD_ENV_TMPDIR: o.tmpDir,
    // The tests written for `codex exec` under a PTY keep it; app-server tests pass CODEX_PROTOCOL in `env`.
    CODEX_PROTOCOL: 'exec',
  };
  if (o.maxRetries !== undefined) env.CHILD_ENV_CLAUDE_CODE_MAX_RETRIES = String(o.maxRetries);
  // startServer sets CHILD_ENV_IS_SANDBOX=1; an undefined value makes spawn leave it out entirely.
  env.CHILD_ENV_IS_SANDBOX = (o.sandbox === false ? undefined : '1') as unknown as string;
  return env;
}

/** "pid cmdline (cwd)" of a process, for a failure message. */
function describeProcess(pid: number): string {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 200);
    return `${pid} ${cmd} (cwd ${fs.readlinkSync(`/proc/${pid}/cwd`)})`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** A port nothing listens on (bound, then released): "the model server is unreachable". */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface TranscriptEntry {
  tool: string;
  args: Record<string, unknown>;
  /** The structured result, or the error text of a refused call. */
  result?: unknown;
  error?: string;
}

export interface RealRig {
  dirs: Dirs;
  model: ModelServer;
  server: RunningServer;
  client: Client;
  /** Every tool call made through `call`/`callError`, as the client saw it. */
  transcript: TranscriptEntry[];
  /** `call` from the test helpers, recorded in the transcript. */
  call<T = any>(tool: string, args?: Record<string, unknown>): Promise<T>;
  /** `callError` from the test helpers, recorded in the transcript. */
  callError(tool: string, args: Record<string, unknown>): Promise<string>;
  /** Stops everything, checks that no worker or agent process is left, removes the temp dirs. */
  close(): Promise<void>;
  /** Stops the supervisor (sessions keep running) and starts it again on the same dirs, e.g. as another install (`command`); `server` and `client` are the new ones. */
  restart(opts?: { command?: string[] }): Promise<void>;
}

const openRigs = new Set<RealRig>();

/**
 * Closes every rig a test started (call it from afterEach): the test's own failure is reported
 * as is, and a process left behind fails the test too.
 */
export async function closeRigs(): Promise<void> {
  const rigs = [...openRigs];
  openRigs.clear();
  const errors: unknown[] = [];
  for (const r of rigs) await r.close().catch((e) => errors.push(e));
  if (errors.length) throw errors[0];
}

/**
 * One supervisor + one ModelServer + one SSE client, for one test (closed by closeRigs). `modelUrl` overrides the URL the
 * agents are given (e.g. a closed port) while the ModelServer still runs.
 */
export async function startRealRig(script: ScriptTurn[], opts: { maxRetries?: number; sandbox?: boolean; modelUrl?: string; env?: Record<string, string>; command?: string[] } = {}): Promise<RealRig> {
  const dirs = makeDirs('agentvisor-real-');
  const model = await ModelServer.start(script);
  let server: RunningServer | undefined;
  let client: Client | undefined;
  const close = async () => {
    await client?.close().catch(() => undefined);
    // SIGTERM: the supervisor leaves running sessions to their workers, so kill those first.
    if (server) {
      const c2 = await connect(server).catch(() => undefined);
      if (c2) {
        const { sessions } = await call(c2, 'session_list').catch(() => ({ sessions: [] as any[] }));
        for (const s of sessions) if (!isEnded(s.status)) await call(c2, 'session_kill', { sessionId: s.sessionId }).catch(() => undefined);
        await c2.close().catch(() => undefined);
      }
      await server.stop();
    }
    await model.close();
    await until(() => leftovers(dirs).length === 0, 10_000, 'no worker or agent process left').catch(() => undefined);
    const left = leftovers(dirs).map(describeProcess);
    // Never leak into the next test, even when the assertion below fails.
    reapLeftovers(dirs);
    fs.rmSync(dirs.base, { recursive: true, force: true });
    if (left.length) throw new Error(`processes left behind: ${left.join('; ')}`);
  };
  let env: Record<string, string> = {};
  try {
    env = {
      ...realAgentServerEnv({
        modelUrl: opts.modelUrl ?? model.url,
        home: path.join(dirs.base, 'home'),
        codexHome: path.join(dirs.base, 'codex-home'),
        tmpDir: path.join(dirs.base, 'tmp'),
        maxRetries: opts.maxRetries,
        sandbox: opts.sandbox,
      }),
      KILL_GRACE: '2000',
      ...opts.env,
    };
    server = await startServer({ dirs, env, command: opts.command });
    client = await connect(server);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  const transcript: TranscriptEntry[] = [];
  const rig: RealRig = {
    dirs,
    model,
    server: server!,
    client: client!,
    transcript,
    close,
    async restart(o = {}) {
      await client?.close().catch(() => undefined);
      await server!.stop();
      server = await startServer({ dirs, env, command: o.command });
      client = await connect(server);
      rig.server = server;
      rig.client = client;
    },
    async call(tool, args = {}) {
      const result = await call(client!, tool, args);
      transcript.push({ tool, args, result });
      return result;
    },
    async callError(tool, args) {
      const error = await callError(client!, tool, args);
      transcript.push({ tool, args, error });
      return error;
    },
  };
  openRigs.add(rig);
  return rig;
}

/**
 * A second supervisor on the rig's state dir and agent configuration, as an operator restarting
 * the service would have it (after `rig.server.kill()`); the caller closes the client and stops it.
 */
export async function restartRealServer(rig: RealRig, env: Record<string, string> = {}): Promise<{ server: RunningServer; client: Client }> {
  const base = rig.dirs.base;
  const agents = realAgentServerEnv({ modelUrl: rig.model.url, home: path.join(base, 'home'), codexHome: path.join(base, 'codex-home'), tmpDir: path.join(base, 'tmp') });
  const server = await startServer({ dirs: rig.dirs, env: { ...agents, KILL_GRACE: '2000', ...env } });
  return { server, client: await connect(server) };
}

/**
 * A transcript as a client sees it, compact enough for a README: each call's arguments, and of
 * its result the fields a reader follows (status, lines, ids, outcome).
 */
export function formatTranscript(entries: TranscriptEntry[]): string {
  const keep = [
    'status',
    'delivered',
    'queued',
    'steered',
    'resumed',
    'note',
    'agentSessionId',
    'offset',
    'nextOffset',
    'exitCode',
    'completedSuccessfully',
    'errorSummary',
    'usage',
    'silentForMs',
    'pendingApprovals',
    'approval',
    'alreadyDecided',
  ];
  const out: string[] = [];
  for (const e of entries) {
    out.push(`> ${e.tool} ${JSON.stringify(e.args)}`);
    if (e.error !== undefined) {
      out.push(`< error: ${e.error}`);
      continue;
    }
    const r = (e.result ?? {}) as Record<string, any>;
    const page = r.initialOutput ?? r;
    const summary: Record<string, unknown> = {};
    for (const k of keep) if (r[k] !== undefined && r[k] !== null) summary[k] = r[k];
    if (Array.isArray(r.sessions)) summary.sessions = r.sessions.map((x: any) => ({ status: x.status, silentForMs: x.silentForMs, agentSessionId: x.agentSessionId }));
    out.push(`< ${JSON.stringify(summary)}`);
    if (Array.isArray(page.lines)) for (const l of page.lines) out.push(`    ${l}`);
  }
  return out.join('\n');
}

/** Writes a test's transcript to $REAL_AGENTS_TRANSCRIPT_DIR/<name>.txt when that is set (for the README). */
export function saveTranscript(name: string, rig: RealRig): void {
  const dir = process.env.REAL_AGENTS_TRANSCRIPT_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.txt`), formatTranscript(rig.transcript) + '\n');
}

/** A read-only look at the supervisor's journal (STATE_DIR/journal.db). */
export function journalRow(dirs: Dirs, sessionId: string): Record<string, unknown> | undefined {
  const db = new Database(path.join(dirs.stateDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM sessions WHERE id = ?').get(sessionId) as Record<string, unknown> | undefined;
  } finally {
    db.close();
  }
}

export function journalEvents(dirs: Dirs, sessionId: string): Array<{ kind: string; detail: string | null }> {
  const db = new Database(path.join(dirs.stateDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT kind, detail FROM events WHERE session_id = ? ORDER BY id').all(sessionId) as Array<{ kind: string; detail: string | null }>;
  } finally {
    db.close();
  }
}

/** Every output line of a session, following nextOffset to the end. */
export async function readAll(client: Client, sessionId: string): Promise<{ lines: string[]; last: any }> {
  const lines: string[] = [];
  let since = 0;
  for (;;) {
    const page = await call(client, 'session_output', { sessionId, since, limit: 1000 });
    expect(page.offset).toBe(since + page.dropped);
    lines.push(...page.lines);
    since = page.nextOffset;
    if (!page.hasMore) return { lines, last: page };
  }
}

/**
 * Follows a session as a client would: recorded session_wait calls from `since`, each continuing at
 * the previous nextOffset, until the session has ended and everything is read.
 */
export async function follow(rig: RealRig, sessionId: string, since = 0, timeoutMs = 40_000): Promise<{ lines: string[]; last: any }> {
  const lines: string[] = [];
  let next = since;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const page = await rig.call('session_wait', { sessionId, since: next, timeoutMs: 10_000 });
    expect(page.offset).toBe(next);
    lines.push(...page.lines);
    next = page.nextOffset;
    if (!['running', 'killing'].includes(page.status) && !page.hasMore) return { lines, last: page };
    if (Date.now() > end) throw new Error(`session ${sessionId} still ${page.status} after ${timeoutMs} ms`);
  }
}

/** Blocks (session_wait, no polling of its own) until the session has ended; returns its last page. */
export async function waitEnded(client: Client, sessionId: string, timeoutMs = 40_000): Promise<any> {
  let page: any;
  await until(
    async () => {
      // While the agent waits on an approval session_wait answers at once: until() paces the loop.
      page = await call(client, 'session_wait', { sessionId, timeoutMs: 5_000, limit: 1 });
      return isEnded(page.status);
    },
    timeoutMs,
    `session ${sessionId} to end`,
  );
  return page;
}

export async function sessionInfo(client: Client, sessionId: string): Promise<any> {
  const { sessions } = await call(client, 'session_list');
  return sessions.find((s: any) => s.sessionId === sessionId);
}
