/**
 * Configuration from the environment (and a `.env` file in the working
 * directory, whose values never override the real environment). Invalid values
 * stop start-up with one line naming the variable and what it accepts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { HttpTimeouts, Limits, SessionTimeouts, WorkerTimeouts } from '../shared/constants';
import { SessionCoreTimeouts } from './session/coreTimeouts';
import { NOTIFY_EVENTS, type NotifyEvent } from './notifier';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ms = (max = 7 * 24 * 3600_000) => int(1, max);

function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'agentvisor');
}

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/** Each entry: variable name → schema with default. Descriptions feed `agentvisor serve --help`. */
export const CONFIG_VARS = {
  AUTH_TOKEN: { schema: z.string().min(16, 'must be at least 16 characters').max(512).optional(), help: 'bearer token clients must send (default: generated once, kept in STATE_DIR/token)' },
  PORT: { schema: int(0, 65535).default(3500), help: 'TCP port (0 picks a free one)' },
  HOST: { schema: z.string().min(1).default('127.0.0.1'), help: 'address to bind; a wildcard address is logged as a warning' },
  WORKSPACE_DIR: { schema: z.string().min(1).optional(), help: 'root of session cwds and the file tools (default: current directory)' },
  STATE_DIR: { schema: z.string().min(1).optional(), help: 'journal, sockets, output, logs (default: $XDG_STATE_HOME/agentvisor or ~/.local/state/agentvisor)' },
  WORKTREE_DIR: { schema: z.string().min(1).optional(), help: 'where sessions started with worktree get their git worktrees; never inside a repository (default: STATE_DIR/worktrees)' },
  IDLE_TIMEOUT: { schema: ms().default(SessionTimeouts.idleTimeoutMs), help: 'ms without output or input before a session is killed' },
  ORPHAN_TIMEOUT: { schema: ms().default(SessionTimeouts.orphanTimeoutMs), help: 'ms a worker waits for a supervisor before ending its session' },
  APPROVAL_TIMEOUT: { schema: int(0, 7 * 24 * 3600_000).default(SessionTimeouts.approvalTimeoutMs), help: 'ms a mode ask permission request waits for a decision before it is denied (0 = for ever)' },
  KILL_GRACE: { schema: ms(600_000).default(SessionTimeouts.killGraceMs), help: 'ms between SIGTERM and SIGKILL when a session is killed' },
  START_OUTPUT_WAIT: { schema: ms(60_000).default(SessionTimeouts.startOutputWaitMs), help: 'ms session_start waits for first output' },
  WAIT_MAX: { schema: ms(3600_000).default(SessionTimeouts.waitMaxMs), help: 'cap of session_wait timeoutMs' },
  WAIT_PROGRESS_INTERVAL: { schema: ms(600_000).default(SessionTimeouts.waitProgressIntervalMs), help: 'ms between session_wait progress notifications' },
  WORKER_READY_TIMEOUT: { schema: ms(600_000).default(WorkerTimeouts.spawnReadyMs), help: 'ms a new worker has to report ready' },
  HEARTBEAT_INTERVAL: { schema: ms(600_000).default(SessionCoreTimeouts.heartbeatIntervalMs), help: "ms between the supervisor's pings of each live worker" },
  HEARTBEAT_GRACE: { schema: ms(3600_000).default(SessionCoreTimeouts.heartbeatGraceMs), help: 'ms a ping may go unanswered before the worker is reported unresponsive' },
  MAX_SESSIONS: { schema: int(1, 10_000).default(20), help: 'running sessions at once' },
  MAX_SSE_CONNECTIONS: { schema: int(1, 100_000).default(50), help: 'open SSE/streamable client connections at once' },
  SSE_IDLE_TIMEOUT: { schema: ms().default(HttpTimeouts.sseIdleTimeoutMs), help: 'ms an idle client connection is kept' },
  RATE_LIMIT_RPM: { schema: int(1, 1_000_000).default(120), help: 'message posts per minute per client address' },
  RATE_LIMIT_MAX_ADDRESSES: { schema: int(1, 10_000_000).default(10_000), help: 'client addresses the rate limiter remembers; beyond it, new addresses share one bucket' },
  RING_LINES: { schema: int(100, 1_000_000).default(Limits.ringLines), help: 'output lines kept per session' },
  ENDED_SESSIONS_KEPT: { schema: int(1, 1_000_000).default(Limits.endedSessionsKept), help: 'ended sessions remembered (journal row, events, output); older ones are forgotten' },
  CODEX_PROTOCOL: {
    schema: z.enum(['auto', 'app-server', 'exec']).default('auto'),
    help: 'how Codex sessions run: app-server (JSON-RPC on pipes; messages steer the running turn), exec (a terminal per turn), auto (app-server when the CLI has it)',
  },
  DEFAULT_MAX_COST_USD: { schema: z.coerce.number().positive().max(1_000_000).optional(), help: "a session's spend limit in US dollars when session_start names none (default: none)" },
  DEFAULT_MAX_TOKENS: { schema: int(1, Number.MAX_SAFE_INTEGER).optional(), help: "a session's limit of input + output tokens when session_start names none (default: none)" },
  DEFAULT_MAX_TURNS: { schema: int(1, 1_000_000).optional(), help: "a session's limit of agent turns when session_start names none (default: none)" },
  DEFAULT_MAX_DURATION_MS: { schema: ms(365 * 24 * 3600_000).optional(), help: "a session's limit of agent wall time in ms when session_start names none (default: none)" },
  SANDBOX: {
    schema: z.enum(['auto', 'bwrap', 'none']).default('auto'),
    help: 'how agents are confined: bwrap (bubblewrap; start-up fails if it cannot run), none, or auto (bwrap when a trial run works, else none with a warning)',
  },
  CLAUDE_BIN: { schema: z.string().min(1).optional(), help: 'path of the claude CLI (default: found on PATH)' },
  CODEX_BIN: { schema: z.string().min(1).optional(), help: 'path of the codex CLI (default: found on PATH)' },
  LOG_LEVEL: { schema: z.enum(LOG_LEVELS).default('info'), help: 'error | warn | info | debug' },
  ALLOWED_HOSTS: { schema: z.string().optional(), help: 'comma-separated Host header values accepted (default: localhost names and HOST)' },
  ALLOWED_ORIGINS: { schema: z.string().optional(), help: 'comma-separated Origin values accepted (default: none but localhost origins)' },
  NOTIFY_URL: {
    schema: z
      .string()
      .url('must be an http(s) URL')
      // URL.canParse first: zod runs this even after .url() failed, and new URL() would throw.
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
      .optional(),
    help: 'HTTP endpoint that gets a small JSON POST when a session waits for approval, ends or hits its budget (a ntfy topic URL works as is)',
  },
  NOTIFY_EVENTS: {
    schema: z
      .string()
      .refine((v) => v.split(',').every((e) => (NOTIFY_EVENTS as readonly string[]).includes(e.trim()) || e.trim() === ''), `must be a comma-separated list of ${NOTIFY_EVENTS.join(', ')}`)
      .optional(),
    help: `which events NOTIFY_URL gets, comma-separated (default: all of ${NOTIFY_EVENTS.join(', ')})`,
  },
  SESSION_ENV_ALLOW: { schema: z.string().optional(), help: "comma-separated names (or PREFIX_*) a session's env may set beyond the built-in allow-list" },
} as const;

type Vars = typeof CONFIG_VARS;
type Parsed = { [K in keyof Vars]: z.infer<Vars[K]['schema']> };

export interface Config extends Omit<Parsed, 'WORKSPACE_DIR' | 'STATE_DIR' | 'WORKTREE_DIR' | 'ALLOWED_HOSTS' | 'ALLOWED_ORIGINS' | 'NOTIFY_EVENTS'> {
  WORKSPACE_DIR: string;
  STATE_DIR: string;
  WORKTREE_DIR: string;
  ALLOWED_HOSTS: string[];
  ALLOWED_ORIGINS: string[];
  NOTIFY_EVENTS: NotifyEvent[];
  /** CHILD_ENV_FOO=bar becomes FOO=bar in every agent's environment. */
  childEnv: Record<string, string>;
}

export class ConfigError extends Error {}

/** Reads `.env` from `dir` into a map (without touching process.env). */
export function readDotEnv(dir: string): Record<string, string> {
  const file = path.join(dir, '.env');
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const merged: Record<string, string | undefined> = { ...readDotEnv(cwd), ...env };
  const parsed: Record<string, unknown> = {};
  for (const [name, { schema }] of Object.entries(CONFIG_VARS)) {
    const raw = merged[name];
    const result = (schema as z.ZodType).safeParse(raw === undefined || raw.trim() === '' ? undefined : raw.trim());
    if (!result.success) {
      const why = result.error.issues[0]?.message ?? 'invalid';
      // Never echo a secret's value, even when it is wrong (a NOTIFY_URL may carry a ntfy topic or a password).
      const shown = name === 'AUTH_TOKEN' || name === 'NOTIFY_URL' ? '' : ` (got "${String(raw).slice(0, 80)}")`;
      throw new ConfigError(`invalid ${name}${shown}: ${why}`);
    }
    parsed[name] = result.data;
  }
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (k.startsWith('CHILD_ENV_') && k.length > 'CHILD_ENV_'.length && v !== undefined) childEnv[k.slice('CHILD_ENV_'.length)] = v;
  }
  const p = parsed as Parsed;
  const stateDir = path.resolve(cwd, p.STATE_DIR ?? defaultStateDir(merged));
  return {
    ...p,
    WORKSPACE_DIR: path.resolve(cwd, p.WORKSPACE_DIR ?? cwd),
    STATE_DIR: stateDir,
    WORKTREE_DIR: path.resolve(cwd, p.WORKTREE_DIR ?? path.join(stateDir, 'worktrees')),
    ALLOWED_HOSTS: list(p.ALLOWED_HOSTS),
    ALLOWED_ORIGINS: list(p.ALLOWED_ORIGINS),
    NOTIFY_EVENTS: p.NOTIFY_EVENTS ? (list(p.NOTIFY_EVENTS) as NotifyEvent[]) : [...NOTIFY_EVENTS],
    childEnv,
  };
}
