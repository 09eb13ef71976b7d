/**
 * Files agentvisor reads back are parsed defensively: a corrupt or empty
 * final.json, or an output segment that cannot be read, marks that one session
 * with a clear errorSummary or note and never stops the server, live or at start;
 * a line read back from disk is sanitised, whatever release wrote it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, callError, makeDirs, until } from '../helpers/server';
import { alive, cleanup, health, journalRow, lineCount, startTick, up, waitEnded, writeHardyAgent } from '../restart/support';

jest.setTimeout(60_000);

let dirs: Dirs;
const servers: RunningServer[] = [];
const clients: Client[] = [];

beforeEach(() => {
  dirs = makeDirs('agentvisor-corrupt-');
});
afterEach(async () => {
  await cleanup(dirs, servers.splice(0), clients.splice(0));
});

test('an empty final.json found while the supervisor runs: the session is lost with a clear summary, its agent killed, the server up', async () => {
  const { server, client } = await up(dirs, { CODEX_BIN: writeHardyAgent(dirs) });
  servers.push(server);
  clients.push(client);
  const s = await startTick(client, 100_000, 5);
  await until(async () => (await lineCount(client, s.sessionId)) > 20, 15_000, 'output');
  const row = journalRow(dirs, s.sessionId);
  fs.writeFileSync(path.join(row.session_dir, 'final.json'), '');
  process.kill(row.worker_pid!, 'SIGKILL');

  const end = await waitEnded(client, s.sessionId, 15_000);
  expect(end.status).toBe('lost');
  expect(end.errorSummary).toMatch(/final record .*final\.json.* unreadable/);
  await until(() => !alive(row.agent_pid), 5_000, 'the agent to be killed');
  expect(server.proc.exitCode).toBeNull();
  expect(await health(server)).toMatchObject({ status: 'ok' });
  expect(server.stderr()).not.toMatch(/unhandled/i);
});

test('a corrupt final.json found at start: the server starts, that session is lost with a clear summary, the others re-attach', async () => {
  const first = await up(dirs, { CODEX_BIN: writeHardyAgent(dirs) });
  servers.push(first.server);
  const bad = await startTick(first.client, 100_000, 5, 'bad');
  const good = await startTick(first.client, 100_000, 5, 'good');
  await until(async () => (await lineCount(first.client, bad.sessionId)) > 20, 15_000, 'output');
  await first.client.close();
  expect(await first.server.stop()).toBe(0);
  const row = journalRow(dirs, bad.sessionId);
  process.kill(row.worker_pid!, 'SIGKILL');
  await until(() => !alive(row.worker_pid), 5_000, 'the worker to die');
  fs.writeFileSync(path.join(row.session_dir, 'final.json'), '{"sessionId": "');

  const second = await up(dirs, { CODEX_BIN: writeHardyAgent(dirs) });
  servers.push(second.server);
  clients.push(second.client);
  const page = await call(second.client, 'session_output', { sessionId: bad.sessionId, since: 0 });
  expect(page.status).toBe('lost');
  expect(page.errorSummary).toMatch(/final record .*final\.json.* unreadable/);
  expect(page.lines.length).toBeGreaterThan(20);
  expect((await call(second.client, 'session_output', { sessionId: good.sessionId, since: 0 })).status).toBe('running');
  await call(second.client, 'session_kill', { sessionId: good.sessionId });
  await waitEnded(second.client, good.sessionId);
});

test('an output segment that cannot be read: reads of that session answer with a note, the server stays up', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  const s = await startTick(client, 30, 1);
  await waitEnded(client, s.sessionId);
  const produced = await lineCount(client, s.sessionId);
  const out = path.join(journalRow(dirs, s.sessionId).session_dir, 'output');
  // Replace the segment by a directory of the same name: reading it fails with EISDIR.
  for (const name of fs.readdirSync(out)) {
    fs.rmSync(path.join(out, name));
    fs.mkdirSync(path.join(out, name));
  }
  // A new supervisor has nothing cached, so it must read the files.
  await client.close();
  clients.splice(0);
  await server.stop();
  const again = await up(dirs);
  servers.push(again.server);
  clients.push(again.client);
  const page = await call(again.client, 'session_output', { sessionId: s.sessionId, since: 0 });
  expect(page.status).toBe('exited');
  expect(page.nextOffset).toBe(produced);
  expect(page.note).toMatch(/output file\(s\) of this session could not be read \(\d{12}\.log: EISDIR\)/);
  expect(again.server.proc.exitCode).toBeNull();
});

test('an output directory deleted under an ended session: reads keep the offsets and say why the lines are gone', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  const s = await startTick(client, 30, 1);
  await waitEnded(client, s.sessionId);
  const produced = await lineCount(client, s.sessionId);
  expect(produced).toBeGreaterThan(30);
  const out = path.join(journalRow(dirs, s.sessionId).session_dir, 'output');
  await client.close();
  clients.splice(0);
  await server.stop();
  fs.rmSync(out, { recursive: true });

  const again = await up(dirs);
  servers.push(again.server);
  clients.push(again.client);
  const page = await call(again.client, 'session_output', { sessionId: s.sessionId, since: 0 });
  expect(page).toMatchObject({ status: 'exited', lines: [], nextOffset: produced, dropped: produced });
  expect(page.note).toBe(`the session produced ${produced} line(s) but its output directory ${out} no longer exists; they cannot be shown.`);
});

test('a corrupt spec.json of an ended session: continuing it is refused naming the file, the session and server untouched', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'c', task: 'hello' });
  const end = await waitEnded(client, s.sessionId);
  expect(end.status).toBe('exited');
  const spec = path.join(journalRow(dirs, s.sessionId).session_dir, 'spec.json');
  fs.writeFileSync(spec, '{"protocolVersion": 1, "sess');
  const refused = await callError(client, 'session_send', { sessionId: s.sessionId, message: 'more' });
  expect(refused).toContain(`session ${s.sessionId} cannot be continued: its launch spec ${spec} is unreadable (Unterminated string in JSON`);
  expect(refused).toMatch(/\); start a new session\.$/);
  expect(journalRow(dirs, s.sessionId).status).toBe('exited');
  expect(await health(server)).toMatchObject({ status: 'ok' });
});

// Segments written before the sanitiser existed hold agents' raw bytes; an agent is untrusted.
test('a raw escape sequence in an old output segment comes out clean over MCP, offsets unchanged', async () => {
  const { server, client } = await up(dirs);
  servers.push(server);
  clients.push(client);
  const s = await startTick(client, 30, 1);
  await waitEnded(client, s.sessionId);
  const produced = await lineCount(client, s.sessionId);
  await client.close();
  clients.splice(0);
  await server.stop();

  // Rewrite the segment as an old release would have left it: the same lines, some with raw bytes.
  const out = path.join(journalRow(dirs, s.sessionId).session_dir, 'output');
  const [segment] = fs.readdirSync(out);
  const lines = fs.readFileSync(path.join(out, segment), 'utf8').split('\n');
  const original = lines[1];
  lines[1] = '\x1b]52;c;ZXZpbA==\x07clip\x1b[2Jboard\x1bc' + original + '\r\x00\x9b31m';
  fs.writeFileSync(path.join(out, segment), lines.join('\n'));

  const again = await up(dirs);
  servers.push(again.server);
  clients.push(again.client);
  const page = await call(again.client, 'session_output', { sessionId: s.sessionId, since: 0 });
  expect(page.nextOffset).toBe(produced);
  expect(page.lines[1]).toBe('clipboard' + original);

  expect(page.lines.filter((l: string) => /[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(l))).toEqual([]);
});
