/**
 * The supervisor under real pm2 (its own temporary PM2_HOME), started from
 * ecosystem.config.cjs with settings passed in the environment. After
 * `pm2 restart`, `pm2 reload`, and `pm2 stop` + `pm2 start`, the sessions are
 * still running with the same workers (pm2 never touched them), re-attached
 * by the new supervisor, their output continuing without a gap.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, FAKE_CLAUDE, FAKE_CODEX, ROOT, TEST_TOKEN, call, connect, leftovers, makeDirs, until } from '../helpers/server';
import { alive, closeQuietly, expectConsecutive, journalRow, lineCount, pendingSignals, readAll, startTick, tickNumbers, withJournal } from './support';

jest.setTimeout(90_000);

const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2');
const ECOSYSTEM = path.join(ROOT, 'ecosystem.config.cjs');

let dirs: Dirs;
let pm2Env: Record<string, string>;
let client: Client | undefined;

/** Runs a pm2 command (argv, never a shell string) with the test's PM2_HOME; resolves with its output, throws on failure. */
function pm2(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(PM2, args, { cwd: ROOT, env: { ...pm2Env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`pm2 ${args.join(' ')} exited ${code}:\n${out}`));
    });
  });
}

interface Pm2Proc {
  name: string;
  pid: number;
  pm2_env: { status: string; restart_time: number; treekill?: boolean; kill_timeout?: number; exec_mode: string; env: Record<string, string> };
}

async function jlist(): Promise<Pm2Proc[]> {
  const out = await pm2(['jlist']);
  return JSON.parse(out.slice(out.indexOf('['))) as Pm2Proc[];
}

async function app(): Promise<Pm2Proc> {
  const found = (await jlist()).find((p) => p.name === 'agentvisor');
  if (!found) throw new Error('pm2 does not list agentvisor');
  return found;
}

interface ServerInfo {
  pid: number;
  url: string;
  port: number;
}

/** Waits for the supervisor pm2 runs (online, a pid other than `notPid`) to have written server.json, and connects. */
async function attachToSupervisor(notPid: number | null): Promise<{ info: ServerInfo; client: Client }> {
  const file = path.join(dirs.stateDir, 'server.json');
  let info: ServerInfo | undefined;
  await until(
    async () => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
      // Never a torn read: the supervisor renames a complete server.json into place.
      info = JSON.parse(text) as ServerInfo;
      if (info.pid === notPid || !alive(info.pid)) return false;
      const a = await app();
      return a.pm2_env.status === 'online' && a.pid === info.pid;
    },
    30_000,
    'pm2 to run a new supervisor that has written server.json',
  );
  return { info: info!, client: await connect({ url: info!.url, token: TEST_TOKEN }) };
}

/** Pids from `pid` up to init: a worker must have neither the supervisor nor pm2 among them. */
function ancestors(pid: number): number[] {
  const out: number[] = [];
  let p = pid;
  while (p > 1) {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    out.push(p);
  }
  return out;
}

beforeEach(() => {
  dirs = makeDirs('agentvisor-pm2-');
  pm2Env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // Nothing of pm2's may land in the real home.
    HOME: dirs.base,
    PM2_HOME: path.join(dirs.base, 'pm2'),
    AGENTVISOR_PM2_LOG_DIR: path.join(dirs.base, 'pm2-logs'),
    // agentvisor's settings, read by ecosystem.config.cjs from this environment.
    STATE_DIR: dirs.stateDir,
    WORKSPACE_DIR: dirs.workspace,
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_TOKEN: TEST_TOKEN,
    CODEX_BIN: FAKE_CODEX,
    CLAUDE_BIN: FAKE_CLAUDE,
    CHILD_ENV_IS_SANDBOX: '1',
    RATE_LIMIT_RPM: '1000000',
    LOG_LEVEL: 'debug',
  };
});

afterEach(async () => {
  await closeQuietly(client);
  client = undefined;
  // Stops the supervisor and the daemon; then whatever is left of the sessions goes too.
  await pm2(['kill']).catch(() => undefined);
  for (const pid of leftovers(dirs)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fs.rmSync(dirs.base, { recursive: true, force: true });
});

test('pm2 restart, reload, and stop + start replace the supervisor; the workers run on untouched and are re-attached without a gap', async () => {
  const t0 = Date.now();
  await pm2(['start', ECOSYSTEM]);
  let { info, client: c } = await attachToSupervisor(null);
  client = c;
  const first = await app();
  // pm2 manages one process, the supervisor; the workers are not pm2's.
  expect((await jlist()).map((p) => p.pid)).toEqual([info.pid]);
  // The settings pm2 runs it with are the ones in the ecosystem file.
  expect(first.pm2_env).toMatchObject({ exec_mode: 'fork_mode', kill_timeout: 15_000 });
  expect(first.pm2_env.treekill).toBe(false);
  expect(first.pm2_env.env).toMatchObject({ STATE_DIR: dirs.stateDir, WORKSPACE_DIR: dirs.workspace, NODE_ENV: 'production' });

  const sessions = [await startTick(client, 1_000_000, 10, 'a'), await startTick(client, 1_000_000, 10, 'b')];
  const rows = sessions.map((s) => journalRow(dirs, s.sessionId));
  for (const r of rows) {
    expect(alive(r.worker_pid)).toBe(true);
    // Not descendants of the supervisor (nor of pm2): pm2's tree kill could not reach them even if enabled.
    expect(ancestors(r.worker_pid!)).not.toContain(info.pid);
  }
  const god = Number(fs.readFileSync(path.join(pm2Env.PM2_HOME, 'pm2.pid'), 'utf8'));
  for (const r of rows) expect(ancestors(r.worker_pid!)).not.toContain(god);
  await until(async () => (await lineCount(client!, sessions[0].sessionId)) > 20, 10_000, 'output');

  const ops: Array<{ name: string; run: () => Promise<void> }> = [
    { name: 'restart', run: async () => void (await pm2(['restart', 'agentvisor'])) },
    { name: 'reload', run: async () => void (await pm2(['reload', 'agentvisor'])) },
    {
      name: 'stop + start',
      run: async () => {
        await pm2(['stop', 'agentvisor']);
        // Stopped: no supervisor, and no server.json (it removes it on a clean stop) — the workers carry on alone.
        expect((await app()).pm2_env.status).toBe('stopped');
        expect(alive(info.pid)).toBe(false);
        expect(fs.existsSync(path.join(dirs.stateDir, 'server.json'))).toBe(false);
        // The supervisor is gone, so whatever it or pm2 sent its workers on the way out has taken effect or is pending.
        for (const r of rows) expect({ alive: alive(r.worker_pid), pending: pendingSignals(r.worker_pid) }).toEqual({ alive: true, pending: 0n });
        await pm2(['start', 'agentvisor']);
      },
    },
  ];
  const timings: string[] = [];
  for (const op of ops) {
    const before = await Promise.all(sessions.map((s) => lineCount(client!, s.sessionId)));
    const restarts = (await app()).pm2_env.restart_time;
    await closeQuietly(client);
    const opStart = Date.now();
    const oldPid = info.pid;
    await op.run();
    ({ info, client: c } = await attachToSupervisor(oldPid));
    client = c;
    timings.push(`${op.name} ${Date.now() - opStart} ms`);
    const now = await app();
    expect(now.pid).not.toBe(oldPid);
    // pm2 counts a restart or a reload; a stop followed by a start leaves its count as it was.
    const counted = op.name === 'stop + start' ? 0 : 1;
    expect({ op: op.name, restartTime: now.pm2_env.restart_time }).toEqual({ op: op.name, restartTime: restarts + counted });

    // Same sessions, same workers and agents (pm2 signalled the supervisor only), re-attached.
    const listed = (await call(client, 'session_list')).sessions as Array<{ sessionId: string; status: string; pid: number }>;
    for (const [i, s] of sessions.entries()) {
      expect(listed.find((l) => l.sessionId === s.sessionId)).toMatchObject({ status: 'running', pid: rows[i].agent_pid });
      const row = journalRow(dirs, s.sessionId);
      expect(row.worker_pid).toBe(rows[i].worker_pid);
      expect(row.worker_start_time).toBe(rows[i].worker_start_time);
      expect(alive(row.worker_pid)).toBe(true);
      expect(ancestors(row.worker_pid!)).not.toContain(now.pid);
      // Output went on during the switch and reads from 0 as one unbroken sequence.
      await until(async () => (await lineCount(client!, s.sessionId)) > before[i] + 10, 10_000, `output after ${op.name}`);
      const ticks = tickNumbers((await readAll(client, s.sessionId)).lines);
      expectConsecutive(ticks, `${s.sessionId} after ${op.name}`);
      expect(ticks.length).toBeGreaterThan(before[i] - 4);
    }
  }

  // Each supervisor pm2 replaced stopped gracefully (SIGINT, within kill_timeout), not by SIGKILL.
  const stops = withJournal(dirs, (db) => db.prepare("SELECT detail FROM events WHERE kind = 'supervisor_stopped'").all() as Array<{ detail: string }>);
  expect(stops.map((s) => JSON.parse(s.detail))).toEqual(ops.map(() => ({ signal: 'SIGINT', killSessions: false })));
  const reattached = withJournal(dirs, (db) => db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 're_attached'").get() as { n: number });
  expect(reattached.n).toBe(ops.length * sessions.length);
  // pm2 captured the supervisor's output in the files the ecosystem names.
  expect(fs.readFileSync(path.join(pm2Env.AGENTVISOR_PM2_LOG_DIR, 'agentvisor.out.log'), 'utf8')).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
  expect(fs.readFileSync(path.join(pm2Env.AGENTVISOR_PM2_LOG_DIR, 'agentvisor.err.log'), 'utf8')).toContain('"message":"journal reconciled"');

  // The operator's "end everything" through pm2: SIGUSR2 ends every session (pm2 then starts a fresh supervisor).
  await closeQuietly(client);
  client = undefined;
  await pm2(['sendSignal', 'SIGUSR2', 'agentvisor']);
  await until(() => sessions.every((s) => journalRow(dirs, s.sessionId).status === 'killed'), 20_000, 'SIGUSR2 to end every session');
  for (const [i, s] of sessions.entries()) {
    expect(journalRow(dirs, s.sessionId)).toMatchObject({ status: 'killed', end_reason: 'shutdown' });
    await until(() => !alive(rows[i].worker_pid) && !alive(rows[i].agent_pid), 10_000, 'workers and agents to exit');
  }
  ({ info } = await attachToSupervisor(info.pid).then(async (r) => (await closeQuietly(r.client), r)));
  // Then pm2 itself: nothing may remain.
  await pm2(['kill']);
  await until(() => !alive(god) && !alive(info.pid), 10_000, 'pm2 and the supervisor to exit');
  await until(() => leftovers(dirs).length === 0, 5_000, 'workers to exit').catch(() => undefined);
  expect(leftovers(dirs)).toEqual([]);
  process.stdout.write(`pm2: ${timings.join(', ')}; whole test ${Date.now() - t0} ms\n`);
});

test("even with pm2's default tree kill, a restart leaves the workers alone (they are not in the supervisor's tree)", async () => {
  // The same app, but with treekill left at pm2's default (true).
  const file = path.join(dirs.base, 'treekill.config.cjs');
  fs.writeFileSync(file, `const e = require(${JSON.stringify(ECOSYSTEM)});\nmodule.exports = { apps: [{ ...e.apps[0], treekill: true }] };\n`);
  await pm2(['start', file]);
  const attached = await attachToSupervisor(null);
  const info = attached.info;
  let c = attached.client;
  client = c;
  expect((await app()).pm2_env.treekill).toBe(true);
  const s = await startTick(client, 1_000_000, 10, 'a');
  const row = journalRow(dirs, s.sessionId);
  await until(async () => (await lineCount(client!, s.sessionId)) > 20, 10_000, 'output');
  const before = await lineCount(client, s.sessionId);
  await closeQuietly(client);

  await pm2(['restart', 'agentvisor']);
  ({ client: c } = await attachToSupervisor(info.pid));
  client = c;
  expect(journalRow(dirs, s.sessionId)).toMatchObject({ status: 'running', worker_pid: row.worker_pid, worker_start_time: row.worker_start_time, agent_pid: row.agent_pid });
  await until(async () => (await lineCount(client!, s.sessionId)) > before + 10, 10_000, 'output after the restart');
  expectConsecutive(tickNumbers((await readAll(client, s.sessionId)).lines));

  expect((await call(client, 'session_kill', { sessionId: s.sessionId })).status).toBe('killed');
  await closeQuietly(client);
  client = undefined;
  await pm2(['kill']);
  await until(() => leftovers(dirs).length === 0, 10_000, 'pm2, the supervisor and the worker to exit').catch(() => undefined);
  expect(leftovers(dirs)).toEqual([]);
});
