/**
 * The operator commands against a real supervisor with real workers and the
 * fake agents: sessions, show, logs (and --follow), kill, token, stop — then,
 * with the server stopped, sessions and logs from the journal and the files on
 * disk, and an audit of the log files the run left.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { isAlive } from '../../src/shared/procInfo';
import { type RunningServer, TEST_TOKEN, call, connect, leftovers, reapLeftovers, startServer, until } from '../helpers/server';
import { cliEnv, lines, runCli, waitEnded } from './cli';

let server: RunningServer;
let client: Client;
let done: string; // ended by itself: "lines 5"
let silent: string; // running until killed

const env = (extra: Record<string, string> = {}) => cliEnv(server.dirs, { AUTH_TOKEN: TEST_TOKEN, ...extra });
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, env(extra), server.dirs.base);

beforeAll(async () => {
  server = await startServer({ env: { KILL_GRACE: '1000' } });
  client = await connect(server, 'http');
  done = (await call(client, 'session_start', { agent: 'codex', cwd: 'done', task: 'lines 5' })).sessionId;
  await waitEnded(client, done);
  silent = (await call(client, 'session_start', { agent: 'codex', cwd: 'silent', task: 'silent' })).sessionId;
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

test('sessions: running ones by default, every one with --all, an array with --json', async () => {
  const r = await cli(['sessions']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const [header, ...rows] = lines(r.stdout);
  expect(header.split(/\s{2,}/)).toEqual(['ID', 'AGENT', 'STATUS', 'STARTED', 'LAST OUTPUT', 'EXIT', 'SPENT', 'CWD']);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatch(new RegExp(`^${silent.slice(0, 8)}\\s+codex\\s+running\\s+\\d+(ms|s) ago\\s+.*-\\s+-\\s+${server.dirs.workspace}/silent$`));

  const all = await cli(['sessions', '--all']);
  expect(all.code).toBe(0);
  const doneRow = lines(all.stdout).find((l) => l.startsWith(done.slice(0, 8)))!;
  expect(doneRow.split(/\s{2,}/)).toEqual([done.slice(0, 8), 'codex', 'exited', expect.stringMatching(/ago$/), expect.stringMatching(/ago$/), '0', '-', `${server.dirs.workspace}/done`]);

  const json = await cli(['sessions', '--all', '--json']);
  const list = JSON.parse(json.stdout);
  expect(list.map((s: any) => s.sessionId)).toEqual([done, silent]);
  expect(list[0]).toMatchObject({ agent: 'codex', status: 'exited', exitCode: 0, completedSuccessfully: true, outputLines: 9, statusFrom: 'server' });
  expect(list[1]).toMatchObject({ status: 'running', exitCode: null });
  // The worker's secret and socket stay in the journal.
  expect(json.stdout).not.toMatch(/secret|socket/i);
  console.log(`sessions: ${r.ms} ms, --all: ${all.ms} ms, --json: ${json.ms} ms`);
});

test('show: metadata and event history for a unique id prefix; unknown ids are one clear line', async () => {
  const r = await cli(['show', done.slice(0, 6)]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^id\\s+${done}$`, 'm'));
  expect(r.stdout).toMatch(/^status\s+exited — exit 0, reason exited, completed successfully$/m);
  expect(r.stdout).toMatch(/^task\s+lines 5$/m);
  expect(r.stdout).toMatch(/^output lines\s+9$/m);
  // The fake Codex (the exec path) reports no usage; the real agents' is in test/realAgents/usageAndBudgets.test.ts.
  expect(r.stdout).toMatch(/^usage\s+none reported, ran \d+(ms|s)$/m);
  expect(r.stdout).toMatch(/^limits\s+none$/m);
  const history = r.stdout.slice(r.stdout.indexOf('\nevents\n'));
  expect(history).toMatch(/^AT\s+KIND\s+DETAIL$/m);
  expect(history).toMatch(/^\S+Z\s+created\s+\{"agent":"codex"/m);
  expect(history).toMatch(/^\S+Z\s+exited\s+/m);

  const json = JSON.parse((await cli(['show', done, '--json'])).stdout);
  expect(json.session).toMatchObject({ sessionId: done, status: 'exited', cwd: `${server.dirs.workspace}/done` });
  expect(json.task).toBe('lines 5');
  expect(json.events.map((e: any) => e.kind)).toEqual(expect.arrayContaining(['created', 'started', 'exited']));

  const missing = await cli(['show', 'ffffffff']);
  expect(missing.code).toBe(1);
  expect(missing.stdout).toBe('');
  expect(lines(missing.stderr)).toEqual(['agentvisor: show: no session with an id starting "ffffffff" (see agentvisor sessions --all)']);
  const bad = await cli(['show', 'not-an-id!']);
  expect(bad.code).toBe(1);
  expect(lines(bad.stderr)).toHaveLength(1);
});

test('logs: the output through the server, from an absolute offset, as text or JSON lines', async () => {
  const all = await cli(['logs', done.slice(0, 8)]);
  expect(all.code).toBe(0);
  const out = lines(all.stdout);
  expect(out).toHaveLength(9);
  expect(out.slice(4)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);

  const since = await cli(['logs', done, '--since', '6', '--offsets']);
  expect(lines(since.stdout)).toEqual(['6\tline 2', '7\tline 3', '8\tline 4']);
  const json = await cli(['logs', done, '--since', '8', '--json']);
  expect(lines(json.stdout).map((l) => JSON.parse(l))).toEqual([{ offset: 8, line: 'line 4' }]);
  const past = await cli(['logs', done, '--since', '100']);
  expect(past).toMatchObject({ code: 0, stdout: '' });
});

test('logs --follow prints lines as they come and returns when the session ends', async () => {
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'tick', task: 'tick 12 100' });
  const r = await cli(['logs', s.sessionId, '--follow']);
  expect(r.code).toBe(0);
  const ticks = lines(r.stdout).filter((l) => l.startsWith('tick '));
  expect(ticks.map((l) => l.split(' ')[1])).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  expect(r.stderr).toMatch(new RegExp(`session ${s.sessionId.slice(0, 8)} ended: exited, exit 0`));
  // It returned because the session ended (≈1.2 s of ticks), not at a wait timeout.
  expect(r.ms).toBeLessThan(10_000);
  console.log(`logs --follow of a 1.2 s session: ${r.ms} ms`);
});

test('kill: ends a running session through the server and waits until it is gone', async () => {
  const wrong = await cli(['kill', silent], { AUTH_TOKEN: 'not-the-token-0123456789' });
  expect(wrong.code).toBe(1);
  expect(lines(wrong.stderr)).toHaveLength(1);
  expect(wrong.stderr).toMatch(/refused the token from AUTH_TOKEN \(401\)/);
  expect(wrong.stderr + wrong.stdout).not.toContain('not-the-token-0123456789');

  const r = await cli(['kill', silent.slice(0, 8)]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${silent}: killed (SIGTERM)\n`);
  const { sessions } = await call(client, 'session_list');
  expect(sessions.find((x: any) => x.sessionId === silent).status).toBe('killed');
  const again = await cli(['kill', silent]);
  expect(again).toMatchObject({ code: 0, stdout: `${silent}: session had already ended (killed)\n` });
  console.log(`kill: ${r.ms} ms`);
});

test('token prints the client configuration; --rotate refuses while AUTH_TOKEN fixes the token', async () => {
  const r = await cli(['token']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toContain(`"url": "${server.url}/sse"`);
  expect(r.stdout).toContain(`"Authorization": "Bearer ${TEST_TOKEN}"`);
  const json = JSON.parse((await cli(['token', '--json'])).stdout);
  expect(json).toEqual({ url: server.url, sseUrl: `${server.url}/sse`, mcpUrl: `${server.url}/mcp`, token: TEST_TOKEN, source: 'AUTH_TOKEN' });

  const rotate = await cli(['token', '--rotate']);
  expect(rotate.code).toBe(1);
  expect(lines(rotate.stderr)).toHaveLength(1);
  expect(rotate.stderr).toMatch(/AUTH_TOKEN is set .* change AUTH_TOKEN where the server gets it and restart/);
  expect(rotate.stdout + rotate.stderr).not.toContain(TEST_TOKEN);
});

test('stop --kill-sessions ends every session and returns once the server has exited; then sessions and logs read the disk', async () => {
  const running = (await call(client, 'session_start', { agent: 'codex', cwd: 'last', task: 'silent' })).sessionId;
  await client.close();
  const pid = server.proc.pid!;
  const r = await cli(['stop', '--kill-sessions']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toBe(`stopped agentvisor (pid ${pid}); every session was ended\n`);
  // Returned only once the server had exited.
  expect(isAlive(pid)).toBe(false);
  expect(fs.existsSync(path.join(server.dirs.stateDir, 'server.json'))).toBe(false);
  console.log(`stop --kill-sessions: ${r.ms} ms`);

  // Server down: the journal (read-only) and the output files still answer.
  const all = await cli(['sessions', '--all', '--json']);
  expect(all.code).toBe(0);
  const byId = Object.fromEntries(JSON.parse(all.stdout).map((s: any) => [s.sessionId, s]));
  expect(byId[running]).toMatchObject({ status: 'killed', statusFrom: 'journal' });
  expect(byId[done]).toMatchObject({ status: 'exited', exitCode: 0 });
  const none = await cli(['sessions']);
  expect(none).toMatchObject({ code: 0, stdout: 'no running sessions (agentvisor sessions --all lists ended ones)\n' });
  const logs = await cli(['logs', done, '--since', '4']);
  expect(logs).toMatchObject({ code: 0, stdout: 'line 0\nline 1\nline 2\nline 3\nline 4\n' });
  const show = await cli(['show', running]);
  expect(show.stdout).toMatch(/^status\s+killed/m);

  // Commands that need the server say so in one line.
  const kill = await cli(['kill', running]);
  expect(kill.code).toBe(1);
  expect(lines(kill.stderr)).toEqual([expect.stringMatching(/^agentvisor: kill: the server is not running .* start it with: agentvisor serve$/)]);
  expect(await cli(['stop'])).toMatchObject({ code: 0, stdout: 'agentvisor is not running\n' });

  await until(() => leftovers(server.dirs).length === 0, 5_000, 'every worker and agent to be gone');
  expect(leftovers(server.dirs)).toEqual([]);
});

test('the log files: every line about a session carries its sessionId, and the token appears nowhere', () => {
  const files: string[] = [];
  const logsDir = path.join(server.dirs.stateDir, 'logs');
  for (const f of fs.readdirSync(logsDir)) files.push(path.join(logsDir, f));
  const sessionsDir = path.join(server.dirs.stateDir, 'sessions');
  for (const id of fs.readdirSync(sessionsDir)) {
    for (const f of fs.readdirSync(path.join(sessionsDir, id))) if (f.endsWith('.log')) files.push(path.join(sessionsDir, id, f));
  }
  const ids = fs.readdirSync(sessionsDir);
  expect(ids.length).toBeGreaterThanOrEqual(4);
  let checked = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(TEST_TOKEN);
    for (const line of text.split('\n').filter(Boolean)) {
      const entry = JSON.parse(line);
      const about = ids.filter((id) => line.includes(id));
      if (about.length === 0) continue;
      checked++;
      expect({ file: path.basename(file), message: entry.message, sessionId: entry.sessionId }).toEqual({
        file: path.basename(file),
        message: entry.message,
        sessionId: expect.stringMatching(new RegExp(`^(${about.join('|')})$`)),
      });
    }
  }
  expect(checked).toBeGreaterThan(0);
});
