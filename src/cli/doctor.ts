/**
 * `agentvisor doctor`: checks what agentvisor needs on this host and explains
 * each finding — OK, WARN or FAIL with the fix. Exit code 1 if anything FAILs.
 * It reads and probes only: the one write is a temporary file in STATE_DIR
 * (removed at once), and credentials are reported present or absent, never shown.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { IPty } from 'node-pty';
import { AGENT_BINARY, resolveAgentBinary } from '../supervisor/agentBinaries';
import { agentEnv } from '../supervisor/agentEnv';
import { type Config, ConfigError, loadConfig } from '../supervisor/config';
import { tokenFile } from '../supervisor/token';
import { findOnPath } from '../shared/findExecutable';
import type { AgentKind } from '../shared/protocol';
import { addSecret, out, parseCommand, readOperatorToken, scrub } from './common';
import { duration, printJson } from './format';
import { findServer, health } from './server';

export const USAGE = `usage: agentvisor doctor [--json]

Checks this host for agentvisor: Node.js, the native modules, the agent CLIs and
their credentials, root and the Claude sandbox opt-in, STATE_DIR and the token
file, the port, the journal's integrity and pm2. Each line is OK, WARN or FAIL
with the fix. Reads the same variables (and .env) as serve.

Exit code: 0 when nothing FAILs, 1 otherwise.

options:
  --json   {"ok": bool, "counts": {...}, "checks": [{"check", "status", "message", "fix"}]}
`;

export type Status = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  check: string;
  status: Status;
  message: string;
  fix?: string;
}

const VERSION_TIMEOUT_MS = 10_000;
const PTY_TIMEOUT_MS = 5_000;
/** The package root: node_modules/.bin and ecosystem.config.cjs live there (dist/src/cli → ../../..). */
const PACKAGE_ROOT = path.resolve(__dirname, '../../..');

const ok = (check: string, message: string): Check => ({ check, status: 'OK', message });
const warn = (check: string, message: string, fix: string): Check => ({ check, status: 'WARN', message, fix });
const fail = (check: string, message: string, fix: string): Check => ({ check, status: 'FAIL', message, fix });
const mode = (m: number) => '0' + (m & 0o777).toString(8);
const firstLine = (s: string) => (s.split('\n').map((l) => l.trim()).find(Boolean) ?? '').slice(0, 120);

// ---- configuration ------------------------------------------------------------

/** loadConfig, but an invalid variable is a FAIL line and the rest is checked with its default. */
function tolerantConfig(env: NodeJS.ProcessEnv): { config: Config; checks: Check[] } {
  const e: NodeJS.ProcessEnv = { ...env };
  const checks: Check[] = [];
  for (let i = 0; i < 50; i++) {
    try {
      const config = loadConfig(e);
      addSecret(config.AUTH_TOKEN);
      if (checks.length === 0) checks.push(ok('config', `configuration is valid (STATE_DIR=${config.STATE_DIR}, ${config.HOST}:${config.PORT})`));
      return { config, checks };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const name = /^invalid ([A-Z0-9_]+)/.exec(err.message)?.[1];
      if (!name) throw err;
      checks.push(fail('config', err.message, `fix or unset ${name} (agentvisor serve --help lists every variable); the checks below use its default`));
      // An empty value counts as unset and wins over .env.
      e[name] = '';
    }
  }
  throw new Error('configuration could not be loaded');
}

// ---- runtime ----------------------------------------------------------------------

function nodeCheck(): Check {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? ok('node', `Node.js ${process.versions.node}`)
    : fail('node', `Node.js ${process.versions.node} is too old: agentvisor needs 20 or later`, 'install Node.js 20 or later (e.g. from nodejs.org or with nvm) and npm install again');
}

function sqliteCheck(): Check {
  try {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(':memory:');
    const v = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    db.close();
    return ok('better-sqlite3', `better-sqlite3 loads (SQLite ${v})`);
  } catch (err) {
    return fail('better-sqlite3', `better-sqlite3 does not load: ${firstLine((err as Error).message)}`, 'run npm rebuild better-sqlite3 in the agentvisor directory (needs python3, make and a C++ compiler)');
  }
}

/** Loads node-pty and runs a tiny program in a terminal: the way Codex is run. */
async function ptyCheck(): Promise<Check> {
  const fix = 'run npm rebuild node-pty in the agentvisor directory (needs python3, make and a C++ compiler); "posix_spawnp failed" means its spawn-helper is not executable: chmod +x it';
  let pty: typeof import('node-pty');
  try {
    pty = require('node-pty') as typeof import('node-pty');
  } catch (err) {
    return fail('node-pty', `node-pty does not load: ${firstLine((err as Error).message)}`, fix);
  }
  return new Promise<Check>((resolve) => {
    let term: IPty;
    let out = '';
    const timer = setTimeout(() => {
      try {
        term.kill('SIGKILL');
      } catch {
        // already gone
      }
      resolve(fail('node-pty', `a program started in a terminal did not finish within ${PTY_TIMEOUT_MS / 1000} s`, fix));
    }, PTY_TIMEOUT_MS);
    try {
      term = pty.spawn(process.execPath, ['-e', 'process.stdout.write("pty-ok")'], { cols: 80, rows: 24, cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    } catch (err) {
      clearTimeout(timer);
      resolve(fail('node-pty', `node-pty loads but cannot start a program: ${firstLine((err as Error).message)}`, fix));
      return;
    }
    term.onData((d) => (out += d));
    term.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve(
        exitCode === 0 && out.includes('pty-ok')
          ? ok('node-pty', 'node-pty loads and runs a program in a terminal')
          : fail('node-pty', `a program run in a terminal exited with ${exitCode} and printed ${JSON.stringify(out.slice(0, 80))}`, fix),
      );
    });
  });
}

// ---- agents ---------------------------------------------------------------------

/** `<bin> --version` with a timeout: no shell, stdin closed, the agents' own environment. */
function agentVersion(bin: string, env: Record<string, string>): Promise<{ version: string } | { error: string }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const child = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: os.tmpdir(), env, detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      resolve({ error: `it did not answer within ${VERSION_TIMEOUT_MS / 1000} s` });
    }, VERSION_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 4096)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 4096)));
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && firstLine(out || err)) resolve({ version: firstLine(out || err) });
      else resolve({ error: `it exited with ${code ?? signal}${firstLine(err) ? `: ${firstLine(err)}` : ''}` });
    });
  });
}

interface AgentFound {
  agent: AgentKind;
  path: string | null;
  check: Check;
}

async function agentCheck(agent: AgentKind, config: Config, env: NodeJS.ProcessEnv, childEnv: Record<string, string>): Promise<AgentFound> {
  const b = AGENT_BINARY[agent];
  const configured = agent === 'claude-code' ? config.CLAUDE_BIN : config.CODEX_BIN;
  const resolved = resolveAgentBinary(agent, configured, env.PATH);
  if (!resolved.ok) {
    const check = configured
      ? fail(b.name, `${b.envVar}=${configured} is not an executable file`, `set ${b.envVar} to the ${b.name} executable, or unset it to search PATH`)
      : warn(b.name, `${b.name} is not on PATH: sessions with agent ${agent} cannot start`, `npm install -g ${b.pkg}, or set ${b.envVar} to its path`);
    return { agent, path: null, check };
  }
  const v = await agentVersion(resolved.path, childEnv);
  const check =
    'version' in v
      ? ok(b.name, `${b.name} ${v.version} (${resolved.path})`)
      : warn(b.name, `found ${resolved.path}, but "${b.name} --version" failed: ${v.error}`, `reinstall it (npm install -g ${b.pkg}) or point ${b.envVar} at a working ${b.name}`);
  return { agent, path: resolved.path, check };
}

const present = (env: Record<string, string>, name: string) => (env[name] ?? '') !== '';

/** Whether each agent will find credentials, from what the server passes it. Never shows a value. */
function credentialsCheck(agent: AgentKind, childEnv: Record<string, string>): Check {
  const home = childEnv.HOME || os.homedir();
  if (agent === 'claude-code') {
    const vars = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'].filter((n) => present(childEnv, n));
    if (vars.length) return ok('claude credentials', `${vars.join(', ')} set for the agents (value not shown)`);
    const file = path.join(childEnv.CLAUDE_CONFIG_DIR || path.join(home, '.claude'), '.credentials.json');
    if (fs.existsSync(file)) return ok('claude credentials', `found ${file}`);
    return warn(
      'claude credentials',
      `no Claude credentials: ANTHROPIC_API_KEY is not set for the agents and ${file} does not exist; Claude sessions will fail to authenticate`,
      'export ANTHROPIC_API_KEY (or CHILD_ENV_ANTHROPIC_API_KEY) where the server starts, or log in once with claude (as the user agentvisor runs as)',
    );
  }
  const vars = ['OPENAI_API_KEY', 'CODEX_API_KEY'].filter((n) => present(childEnv, n));
  if (vars.length) return ok('codex credentials', `${vars.join(', ')} set for the agents (value not shown)`);
  const file = path.join(childEnv.CODEX_HOME || path.join(home, '.codex'), 'auth.json');
  if (fs.existsSync(file)) return ok('codex credentials', `found ${file}`);
  return warn(
    'codex credentials',
    `no Codex credentials: OPENAI_API_KEY is not set for the agents and ${file} does not exist; Codex sessions will fail to authenticate`,
    'export OPENAI_API_KEY (or CHILD_ENV_OPENAI_API_KEY) where the server starts, or log in once with codex login (as the user agentvisor runs as)',
  );
}

function userCheck(claudeFound: boolean, childEnv: Record<string, string>): Check {
  const uid = process.getuid?.();
  const user = os.userInfo().username;
  if (uid !== 0) return ok('user', `running as ${user} (uid ${uid ?? '?'}), not root`);
  if (childEnv.IS_SANDBOX === '1') return ok('user', 'running as root with CHILD_ENV_IS_SANDBOX=1: Claude Code runs with full permissions (right for a container or sandbox)');
  if (!claudeFound) return warn('user', 'running as root; Claude Code (not found here) would refuse full-permission sessions', 'in a container or sandbox set CHILD_ENV_IS_SANDBOX=1; otherwise run agentvisor as a normal user');
  return fail(
    'user',
    'running as root without CHILD_ENV_IS_SANDBOX=1: Claude Code refuses full-permission sessions as root, so they fail to start',
    'if this host is a container or sandbox, set CHILD_ENV_IS_SANDBOX=1 for the server; otherwise run agentvisor as a normal user',
  );
}

// ---- state ------------------------------------------------------------------------

function stateDirCheck(dir: string): { check: Check; usable: boolean } {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { check: fail('state dir', `STATE_DIR ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code}`, 'set STATE_DIR to a directory this user owns'), usable: false };
    }
    let parent = path.dirname(dir);
    while (!fs.existsSync(parent) && parent !== path.dirname(parent)) parent = path.dirname(parent);
    try {
      fs.accessSync(parent, fs.constants.W_OK);
      if (!fs.statSync(parent).isDirectory()) throw new Error('not a directory');
      return { check: ok('state dir', `STATE_DIR ${dir} does not exist yet; the server creates it (mode 0700) at first start`), usable: false };
    } catch {
      return { check: fail('state dir', `STATE_DIR ${dir} does not exist and cannot be created under ${parent}`, `create it (mkdir -m 700 -p ${dir}) or set STATE_DIR elsewhere`), usable: false };
    }
  }
  if (!st.isDirectory()) {
    return { check: fail('state dir', `STATE_DIR ${dir} is not a directory`, `set STATE_DIR to a directory (or move the file ${dir} away)`), usable: false };
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    problems.push(`it is owned by uid ${st.uid}, not by this user (uid ${uid})`);
    fixes.push(`chown -R ${uid} ${dir}, or set STATE_DIR to a directory of this user`);
  }
  if (st.mode & 0o077) {
    problems.push(`its mode is ${mode(st.mode)}: other users can reach the token, the journal and session output`);
    fixes.push(`chmod 700 ${dir}`);
  }
  const probe = path.join(dir, `.doctor-${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
    fs.rmSync(probe, { force: true });
  } catch (err) {
    problems.push(`it is not writable (${(err as NodeJS.ErrnoException).code})`);
    fixes.push('make it writable by this user, or set STATE_DIR elsewhere');
  }
  if (problems.length) return { check: fail('state dir', `STATE_DIR ${dir}: ${problems.join('; ')}`, fixes.join('; ')), usable: !problems.some((p) => p.includes('writable')) };
  return { check: ok('state dir', `STATE_DIR ${dir} is writable, mode ${mode(st.mode)}`), usable: true };
}

function tokenCheck(config: Config, stateUsable: boolean): Check {
  if (config.AUTH_TOKEN) return ok('token', `AUTH_TOKEN is set (${config.AUTH_TOKEN.length} characters); STATE_DIR/token is not used`);
  const file = tokenFile(config.STATE_DIR);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return stateUsable || !fs.existsSync(config.STATE_DIR)
      ? ok('token', `no token file yet: the server generates ${file} (mode 0600) at first start`)
      : warn('token', 'not checked: STATE_DIR is not usable', 'fix STATE_DIR first');
  }
  if (!st.isFile()) return fail('token', `${file} is not a regular file`, `remove ${file}; the server creates a new token at start`);
  if (st.mode & 0o077) {
    return fail('token', `${file} has mode ${mode(st.mode)}: other users may read the token`, `chmod 600 ${file}, then agentvisor token --rotate (the old token may have been read)`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return fail('token', `${file} is owned by uid ${st.uid}, not by this user (uid ${uid})`, `chown ${uid} ${file}`);
  const t = readOperatorToken(config);
  if (!t) return warn('token', `${file} holds no valid token`, 'agentvisor token --rotate writes a new one (the server would too, at start)');
  return ok('token', `${file} has mode ${mode(st.mode)}`);
}

function journalCheck(config: Config, stateUsable: boolean): Check {
  const file = path.join(config.STATE_DIR, 'journal.db');
  const fix = `stop agentvisor, move ${file} aside (mv ${file} ${file}.bad) and start it again: a new journal is created and the sessions in the old one are forgotten`;
  if (!stateUsable && fs.existsSync(config.STATE_DIR)) return warn('journal', 'not checked: STATE_DIR is not usable', 'fix STATE_DIR first');
  if (!fs.existsSync(file)) return ok('journal', 'no journal yet: the server creates it at first start');
  try {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (rows.length !== 1 || rows[0].integrity_check !== 'ok') {
        return fail('journal', `${file} fails integrity_check: ${rows.slice(0, 3).map((r) => r.integrity_check).join('; ')}`, fix);
      }
      const sessions = version >= 1 ? (db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n : 0;
      return ok('journal', `${file} passes integrity_check (schema v${version}, ${sessions} sessions)`);
    } finally {
      db.close();
    }
  } catch (err) {
    return fail('journal', `${file} cannot be read: ${firstLine((err as Error).message)}`, fix);
  }
}

// ---- network ----------------------------------------------------------------------

function probePort(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

async function portCheck(config: Config): Promise<Check> {
  const running = await findServer(config.STATE_DIR);
  const token = readOperatorToken(config);
  if (running) {
    const detail = token ? await health(running.connectUrl, token.token) : null;
    if (detail && detail.version !== undefined) {
      const sessions = Object.entries((detail.sessions ?? {}) as Record<string, number>).map(([s, n]) => `${n} ${s}`).join(', ') || 'no sessions';
      const loop = detail.eventLoopDelayP99Ms !== undefined ? `, event-loop delay p99 ${detail.eventLoopDelayP99Ms} ms` : '';
      // Degraded: up and serving, but not recording everything (a full disk, a replaced journal).
      if (detail.status === 'degraded') {
        const problems = (detail.problems as string[] | undefined) ?? [];
        return warn('server', `agentvisor ${detail.version} (pid ${running.pid}) serves ${running.url} degraded: ${problems.join('; ')}`, 'free space in STATE_DIR (df -h STATE_DIR); agentvisor catches up by itself');
      }
      return ok('server', `agentvisor ${detail.version} (pid ${running.pid}) serves ${running.url}: up ${duration(Number(detail.uptimeMs ?? 0))}, ${sessions}, journal ${detail.journal ?? '?'}${loop}`);
    }
    return warn(
      'server',
      `agentvisor (pid ${running.pid}) serves ${running.url} but refuses the token from ${token ? token.source : 'nowhere (there is none)'}`,
      'use the AUTH_TOKEN the server was started with, or restart it so that it reads STATE_DIR/token',
    );
  }
  if (config.PORT === 0) return ok('server', `not running; PORT=0 picks a free port at start`);
  const why = await probePort(config.HOST, config.PORT);
  if (why === null) return ok('server', `not running; port ${config.PORT} on ${config.HOST} is free`);
  if (why === 'EADDRINUSE') {
    const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`;
    if (await health(url)) {
      return warn('server', `something answering like agentvisor listens on ${url}, but not for STATE_DIR ${config.STATE_DIR}`, 'that is a server with another STATE_DIR: use its STATE_DIR, stop it, or give this one another PORT');
    }
    return fail('server', `port ${config.PORT} on ${config.HOST} is in use by another program`, `set PORT to a free port, or stop the program holding it (ss -ltnp 'sport = :${config.PORT}' names it)`);
  }
  if (why === 'EACCES') return fail('server', `binding port ${config.PORT} needs privileges this user does not have`, 'set PORT to 1024 or higher');
  if (why === 'EADDRNOTAVAIL') return fail('server', `HOST=${config.HOST} is not an address of this machine`, 'set HOST to 127.0.0.1 or an address of this host');
  return fail('server', `port ${config.PORT} on ${config.HOST} cannot be bound: ${why}`, 'set HOST and PORT to an address and port this host can listen on');
}

// ---- deployment -------------------------------------------------------------------

function workspaceCheck(dir: string): Check {
  try {
    if (fs.statSync(dir).isDirectory()) return ok('workspace', `WORKSPACE_DIR ${dir} exists`);
    return fail('workspace', `WORKSPACE_DIR ${dir} is not a directory`, 'set WORKSPACE_DIR to the directory sessions may work in');
  } catch {
    return warn('workspace', `WORKSPACE_DIR ${dir} does not exist (when serve starts elsewhere it defaults to that directory)`, `mkdir -p ${dir}, or set WORKSPACE_DIR`);
  }
}

function pm2Check(env: NodeJS.ProcessEnv): Check {
  const local = path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'pm2');
  const pm2 = findOnPath('pm2', env.PATH) ?? (fs.existsSync(local) ? local : null);
  const ecosystem = [path.join(PACKAGE_ROOT, 'ecosystem.config.cjs'), path.join(process.cwd(), 'ecosystem.config.cjs')].find((f) => fs.existsSync(f));
  if (!pm2) {
    return warn('pm2', 'pm2 not found (on PATH or in node_modules/.bin): nothing restarts agentvisor if it stops or the host reboots', 'npm install -g pm2, then pm2 start ecosystem.config.cjs (or run agentvisor serve under systemd)');
  }
  if (!ecosystem) {
    return warn('pm2', `pm2 found (${pm2}) but no ecosystem.config.cjs in ${PACKAGE_ROOT} or the current directory`, 'add an ecosystem.config.cjs that runs agentvisor serve, then pm2 start ecosystem.config.cjs');
  }
  return ok('pm2', `pm2 found (${pm2}) with ${ecosystem}`);
}

// ---- the command ------------------------------------------------------------------

export async function runChecks(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const { config, checks } = tolerantConfig(env);
  const childEnv = agentEnv(env, config.childEnv);
  const [pty, claude, codex, server] = await Promise.all([
    ptyCheck(),
    agentCheck('claude-code', config, env, childEnv),
    agentCheck('codex', config, env, childEnv),
    portCheck(config),
  ]);
  if (!claude.path && !codex.path) {
    for (const a of [claude, codex]) {
      if (a.check.status === 'WARN') a.check = { ...a.check, status: 'FAIL', message: `${a.check.message}, and neither agent is available` };
    }
  }
  const state = stateDirCheck(config.STATE_DIR);
  checks.push(
    nodeCheck(),
    sqliteCheck(),
    pty,
    claude.check,
    codex.check,
    ...[claude, codex].filter((a) => a.path).map((a) => credentialsCheck(a.agent, childEnv)),
    userCheck(claude.path !== null, childEnv),
    state.check,
    tokenCheck(config, state.usable),
    journalCheck(config, state.usable),
    server,
    workspaceCheck(config.WORKSPACE_DIR),
    pm2Check(env),
  );
  return checks.map((c) => ({ ...c, message: scrub(c.message), ...(c.fix ? { fix: scrub(c.fix) } : {}) }));
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const checks = await runChecks();
  const counts = { OK: 0, WARN: 0, FAIL: 0 };
  for (const c of checks) counts[c.status]++;
  if (counts.FAIL > 0) process.exitCode = 1;
  if (args.values.json) return printJson({ ok: counts.FAIL === 0, counts, checks });
  const width = Math.max(...checks.map((c) => c.check.length));
  const indent = ' '.repeat(6 + width + 2);
  for (const c of checks) {
    out(`${c.status.padEnd(6)}${c.check.padEnd(width)}  ${c.message}\n`);
    if (c.fix && c.status !== 'OK') out(`${indent}fix: ${c.fix}\n`);
  }
  out(`\n${counts.FAIL} FAIL, ${counts.WARN} WARN, ${counts.OK} OK\n`);
}
