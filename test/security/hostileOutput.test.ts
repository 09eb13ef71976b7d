/**
 * What a hostile agent prints (#12 items 6-8), through a real supervisor, real
 * workers and the real CLI: a 200 MB line with no newline costs the worker
 * bounded time and memory and comes out as marked pieces; terminal escapes
 * (OSC 52 clipboard writes, titles, resets, DCS/APC/PM/SOS, 8-bit CSI) and NUL
 * reach neither MCP clients nor `agentvisor logs`, on the Claude (stream-json)
 * and the Codex (PTY) path; and a newline inside a formatted field cannot
 * make memory and disk count lines differently.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, until } from '../helpers/server';
import { cliEnv, runCli } from '../cli/cli';
import { finish, startSecurityServer } from './support';
import { listSegments, outputDir, segmentName } from '../../src/shared/sessionFiles';
import { CUT_MARK } from '../../src/shared/sanitize';

let server: RunningServer;
let client: Client;

// A small ring keeps the worker's retained output small, so its peak memory shows what the
// line splitter holds rather than 10 000 lines of 16 KB.
const RING_LINES = 1_000;

beforeAll(async () => {
  server = await startSecurityServer({ RING_LINES: String(RING_LINES) });
  client = await connect(server, 'http');
}, 60_000);

afterAll(async () => {
  await finish(server, [client]);
});

// Any C0 control but tab, DEL, any C1 control.

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/** Every line from `since` on, paging through session_output. */
async function readAll(sessionId: string, since = 0): Promise<{ lines: string[]; first: number; next: number; status: string }> {
  const lines: string[] = [];
  let from = since;
  let first = -1;
  let status: string;
  for (;;) {
    const page = await call(client, 'session_output', { sessionId, since: from, limit: 10_000, maxBytes: 1_000_000 });
    if (first === -1) first = page.offset;
    lines.push(...page.lines);
    from = page.nextOffset;
    status = page.status;
    if (!page.hasMore) return { lines, first, next: from, status };
  }
}

async function waitForLine(sessionId: string, line: string, timeoutMs: number): Promise<void> {
  await until(async () => (await readAll(sessionId)).lines.includes(line), timeoutMs, `"${line}" from session ${sessionId}`);
}

async function waitEnded(sessionId: string): Promise<void> {
  await until(async () => !['running', 'killing'].includes((await readAll(sessionId)).status), 20_000, `session ${sessionId} to end`);
}

function workerPid(sessionId: string): number {
  const db = new Database(path.join(server.dirs.stateDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT worker_pid FROM sessions WHERE id = ?').get(sessionId) as { worker_pid: number }).worker_pid;
  } finally {
    db.close();
  }
}

/** CPU seconds (user + system) and peak resident MB of a live process, from /proc. */
function processCost(pid: number): { cpuSeconds: number; peakRssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks of 1/100 s.
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, peakRssMb: Number(hwm![1]) / 1024 };
}

test('a 200 MB line with no newline costs the worker bounded time and memory, and comes out as marked pieces', async () => {
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'flood', task: 'flood 200' });
  const pid = workerPid(s.sessionId);
  await waitForLine(s.sessionId, 'flood done', 150_000);
  const cost = processCost(pid);
  const { lines, first } = await readAll(s.sessionId);
  await call(client, 'session_kill', { sessionId: s.sessionId });

  // Before the fix: 66 s of CPU and 1.1 GB. Generous bounds for a loaded 2-core machine.
  expect(cost.cpuSeconds).toBeLessThan(20);
  expect(cost.peakRssMb).toBeLessThan(400);
  // The ring kept its last lines: all pieces of the long line, cut and marked, then its end.
  expect(first).toBeGreaterThan(0);
  const end = lines.indexOf('in event rednuldelend');
  expect(end).toBeGreaterThan(10);
  const pieces = lines.slice(0, end);
  const last = pieces.pop()!;
  expect(last).toMatch(/^x*rednuldelend$/);
  for (const p of pieces) {
    expect(p.endsWith(CUT_MARK)).toBe(true);
    expect(p.length).toBeLessThanOrEqual(16_384);
  }
  expect(lines.slice(end)).toEqual(['in event rednuldelend', 'flood done']);
}, 240_000);

test('terminal escapes and NUL reach neither MCP clients nor `agentvisor logs` (Claude path)', async () => {
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'escapes', task: 'escapes' });
  await waitForLine(s.sessionId, 'echo: escapes', 20_000);
  const live = (await readAll(s.sessionId)).lines;
  expect(live).toContain('raw rednuldelend');
  expect(live).toContain('in event rednuldelend');
  expect(live.filter((l) => CONTROL.test(l))).toEqual([]);

  // The CLI through the running server, in text and JSON.
  const env = cliEnv(server.dirs, { AUTH_TOKEN: server.token });
  for (const args of [
    ['logs', s.sessionId],
    ['logs', s.sessionId, '--json'],
    ['logs', s.sessionId, '--offsets'],
  ]) {
    const r = await runCli(args, env, server.dirs.base);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('rednuldelend');
    expect(r.stdout.split('\n').filter((l) => CONTROL.test(l))).toEqual([]);
  }
}, 60_000);

test("the final answer and the error summary carry no control character either (Claude's result text)", async () => {
  // The fake answers "echo: <task>" as its result text, escapes and all, and "fail" with an error result.
  const task = 'escapes \x1b]52;c;cHduZWQ=\x07\x1bc\x9b2J\x7f answer\nsecond line';
  const asked = await call(client, 'session_start', { agent: 'claude-code', cwd: 'answer', task, waitMs: 20_000 });
  expect(asked.finalAnswer).toBe('echo: escapes  answer\nsecond line');
  const failed = await call(client, 'session_start', { agent: 'claude-code', cwd: 'answer', task: 'fail', waitMs: 20_000 });
  expect(failed.errorSummary).toBe('it failed');
}, 60_000);

test('DCS, APC, PM, SOS and OSC leave nothing behind on the PTY path (Codex)', async () => {
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'pty-escapes', task: 'escapes-hold' });
  await waitForLine(s.sessionId, 'escapes done', 20_000);
  const { lines } = await readAll(s.sessionId);
  await call(client, 'session_kill', { sessionId: s.sessionId });
  const from = lines.findIndex((l) => l.startsWith('osc '));
  expect(lines.slice(from, from + 7)).toEqual(['osc end', 'dcs end', 'apc end', 'pm end', 'sos end', 'reset red nul end', 'escapes done']);
  expect(lines.filter((l) => CONTROL.test(l))).toEqual([]);
}, 60_000);

test('a newline inside a formatted field is escaped: offsets read live and after the end agree', async () => {
  // The fake holds its turn open: the lines are read while the worker holds them, then from disk.
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'fields', task: 'fields' });
  await waitForLine(s.sessionId, 'fields done', 20_000);
  const live = await readAll(s.sessionId);
  expect(live.lines).toContain('[session] 5f0c1f2e-1111-4222-8333-944455556666 model=evil\\nmodel cwd=/ws/a\\nb\\r\\nc');
  expect(live.lines).toContain('[tool] Bad\\nTool');
  expect(live.lines).toContain('[api retry] attempt 1\\n2/3\\n4 HTTP 5\\n0\\n0');
  await call(client, 'session_kill', { sessionId: s.sessionId });
  await waitEnded(s.sessionId);
  // After the end the supervisor reads the worker's files on disk: the same lines at the same offsets.
  const after = await readAll(s.sessionId);
  expect(after.lines.slice(0, live.lines.length)).toEqual(live.lines);
  // And `since` past what was seen live returns nothing seen before.
  const rest = await readAll(s.sessionId, live.next);
  expect(rest.lines).toEqual(after.lines.slice(live.lines.length));
  for (const l of live.lines) expect(rest.lines).not.toContain(l);
}, 60_000);

test('the CLI writes no control character to a terminal, whatever the journal or the output files hold', async () => {
  // The task is the client's text, kept in the journal and shown by `show`; the fake reads only its first word.
  const task = 'escapes \x1b]52;c;cHduZWQ=\x07\x1b]0;title\x07\x9b2J\x7f task';
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'cli-escapes', task });
  const db = new Database(path.join(server.dirs.stateDir, 'journal.db'), { readonly: true, fileMustExist: true });
  let sessionDir = '';
  try {
    // Waited for in the journal, not through session_output: the server reads the files below only once the session has ended.
    await until(
      () => {
        const row = db.prepare('SELECT status, session_dir FROM sessions WHERE id = ?').get(s.sessionId) as { status: string; session_dir: string };
        sessionDir = row.session_dir;
        return row.status === 'exited';
      },
      20_000,
      'the session to end',
    );
  } finally {
    db.close();
  }
  // Output an older agentvisor stored raw (it did not sanitise), as a session from before an upgrade has it.
  const dir = outputDir(sessionDir);
  const last = listSegments(dir).pop()!;
  fs.appendFileSync(path.join(dir, segmentName(last)), 'older \x1b]52;c;cHduZWQ=\x07\x1bc\x1b[31mline\x00\x9b0m\n');

  const env = cliEnv(server.dirs, { AUTH_TOKEN: server.token });
  const runs = [
    ['show', s.sessionId],
    ['show', s.sessionId, '--json'],
    ['sessions', '--all'],
    ['sessions', '--all', '--json'],
    ['logs', s.sessionId],
    ['logs', s.sessionId, '--json'],
  ];
  for (const args of runs) {
    const r = await runCli(args, env, server.dirs.base);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    expect({ args, controls: (r.stdout + r.stderr).split('\n').filter((l) => CONTROL.test(l)) }).toEqual({ args, controls: [] });
  }
  const text = await runCli(['show', s.sessionId], env, server.dirs.base);
  expect(text.stdout).toContain('escapes  task');
  const logs = await runCli(['logs', s.sessionId], env, server.dirs.base);
  expect(logs.stdout).toContain('older line');
  // JSON stays lossless: the controls are there as escapes, and parse back to what was stored.
  const json = await runCli(['show', s.sessionId, '--json'], env, server.dirs.base);
  expect(JSON.parse(json.stdout).task).toBe(task);
}, 60_000);
