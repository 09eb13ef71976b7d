/**
 * Workspace escapes through a session's cwd (#12 items 9 and 10), against a real supervisor,
 * real workers and the fake agents.
 *
 * Item 9: sessions started while another process keeps swapping their cwd with a symlink to /
 * must never run their agent in / (or anywhere outside the workspace): the directory checked
 * is the directory the agent starts in, or the session fails.
 *
 * Item 10: a running session's cwd replaced by a symlink to / must not widen what the file
 * tools may read: the allowed roots are the directories recorded at start, and one whose path
 * no longer leads to the same directory (device + inode) is dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect, until } from '../helpers/server';
import { startSwapRace } from '../helpers/swapRace';
import { finish, startSecurityServer } from './support';

let server: RunningServer;
let client: Client;
let ws: string;

/** Bounds for the start race: enough starts to land in the window many times on a loaded 2-core box. */
const RACE_STARTS = 40;
const RACE_MAX_SWAPS = 50_000_000;
const RACE_MAX_MS = 120_000;

beforeAll(async () => {
  server = await startSecurityServer();
  client = await connect(server, 'http');
  ws = server.dirs.workspace;
});

afterAll(async () => {
  await finish(server, [client]);
});

test("a running session's cwd replaced by a symlink to / does not open / to the file tools", async () => {
  const cwd = path.join(ws, 'proj');
  const session = await call(client, 'session_start', { agent: 'claude-code', cwd: 'proj', task: 'slow 120000 stay running' });
  try {
    fs.writeFileSync(path.join(cwd, 'mine.txt'), 'inside\n');
    expect((await call(client, 'session_output', { sessionId: session.sessionId, since: 0 })).status).toBe('running');
    // Before the swap the session's cwd is readable, as it should be.
    expect((await call(client, 'read_file', { path: path.join(cwd, 'mine.txt') })).lines).toEqual(['inside']);

    // The agent (or anyone with write access to the workspace) swaps its cwd for a symlink to /.
    fs.renameSync(cwd, path.join(ws, 'proj.moved'));
    fs.symlinkSync('/', cwd);

    const passwd = await callError(client, 'read_file', { path: '/etc/passwd' });
    expect(passwd).toMatch(/outside the allowed roots/);
    const rootHome = await callError(client, 'list_directory', { path: '/root' });
    expect(rootHome).toMatch(/outside the allowed roots/);
    // Through the link itself the path resolves to /etc, which is outside as well.
    expect(await callError(client, 'read_file', { path: 'proj/etc/passwd' })).toMatch(/outside the allowed roots/);
    // The workspace itself stays readable, the moved directory included.
    expect((await call(client, 'read_file', { path: 'proj.moved/mine.txt' })).lines).toEqual(['inside']);
  } finally {
    await call(client, 'session_kill', { sessionId: session.sessionId });
    fs.rmSync(cwd, { force: true }); // the symlink only, never what it points to
  }
});

/** The cwd the fake agent reported (Claude's init line `[session] … cwd=/x`, Codex's `{"cwd":"/x"}`), or null if it printed none. */
async function agentCwdOf(sessionId: string): Promise<{ cwd: string | null; status: string; errorSummary: string | null }> {
  let page: any;
  await until(
    async () => {
      page = await call(client, 'session_wait', { sessionId, since: 0, timeoutMs: 2_000, limit: 1_000 });
      return !['running', 'killing'].includes(page.status);
    },
    30_000,
    `session ${sessionId} to end`,
  );
  const lines = page.lines as string[];
  const claude = lines.find((l) => l.startsWith('[session] ') && l.includes(' cwd='));
  const codex = lines.find((l) => l.includes('{"cwd":'));
  const cwd = claude ? claude.slice(claude.indexOf(' cwd=') + 5) : codex ? (JSON.parse(codex.slice(codex.indexOf('{"cwd":'))) as { cwd: string }).cwd : null;
  // A confined Codex over exec (a PTY) gets its cwd by path; bubblewrap refusing a swapped one says why itself.
  const bwrap = lines.find((l) => l.startsWith('bwrap: '));
  return { cwd, status: page.status, errorSummary: page.errorSummary ?? bwrap ?? null };
}

test('sessions started while their cwd is swapped with a symlink to / never run the agent outside the workspace', async () => {
  const dir = path.join(ws, 'race');
  fs.mkdirSync(dir);
  fs.symlinkSync('/', path.join(ws, 'race-link'));
  const race = startSwapRace(dir, path.join(ws, 'race-link'), RACE_MAX_SWAPS, RACE_MAX_MS);
  const outcomes: Array<{ cwd: string | null; status: string; errorSummary: string | null } | { refused: string }> = [];
  try {
    for (let i = 0; i < RACE_STARTS && !race.done; i++) {
      // Both spawn paths: Claude on pipes, Codex under a PTY.
      const args = i % 2 === 0 ? { agent: 'claude-code', cwd: 'race', task: 'hello' } : { agent: 'codex', cwd: 'race', task: 'cwd' };
      const res = await client.callTool({ name: 'session_start', arguments: args });
      if (res.isError) outcomes.push({ refused: (res.content as Array<{ text: string }>)[0]?.text ?? '' });
      else outcomes.push(await agentCwdOf((res.structuredContent as { sessionId: string }).sessionId));
    }
  } finally {
    await race.stop();
    fs.rmSync(path.join(ws, 'race-link'), { force: true }); // the symlink only
  }
  const ran = outcomes.filter((o): o is { cwd: string; status: string; errorSummary: string | null } => 'cwd' in o && o.cwd !== null);
  const escaped = ran.filter((o) => path.relative(ws, o.cwd).startsWith('..') || path.isAbsolute(path.relative(ws, o.cwd)));
  // The race was real: starts landed on a swapped cwd (and lost)...
  expect(outcomes.filter((o) => 'refused' in o).length).toBeGreaterThan(0);
  // ...and once it stops, a start in the same place runs normally, so refusals are the race's doing.
  for (const args of [
    { agent: 'claude-code', cwd: 'race', task: 'hello' },
    { agent: 'codex', cwd: 'race', task: 'cwd' },
  ]) {
    const control = await call(client, 'session_start', args);
    expect(await agentCwdOf(control.sessionId)).toMatchObject({ cwd: dir, status: 'exited' });
  }
  // No agent that ran during the race ran outside the workspace.
  expect({ starts: outcomes.length, escaped }).toEqual({ starts: outcomes.length, escaped: [] });
  // A start that lost the race says why: refused up front, or failed before the agent ran.
  for (const o of outcomes) {
    if ('refused' in o) expect(o.refused).toMatch(/outside WORKSPACE_DIR|changed while it was being checked|could not create cwd|was replaced|no longer exists/);
    else if (o.cwd === null) expect(o.errorSummary ?? JSON.stringify(o)).toMatch(/replaced|changed|no such file/i);
  }
});

test('continuing an ended session whose cwd was swapped for a symlink to / is refused, not run in /', async () => {
  const cwd = path.join(ws, 'later');
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'later', task: 'hello' });
  const ended = await agentCwdOf(s.sessionId);
  expect(ended).toMatchObject({ cwd, status: 'exited' });
  fs.renameSync(cwd, path.join(ws, 'later.moved'));
  fs.symlinkSync('/', cwd);
  try {
    const error = await callError(client, 'session_send', { sessionId: s.sessionId, message: 'args' });
    expect(error).toMatch(new RegExp(`could not continue session ${s.sessionId}: cwd ${cwd} was replaced`));
    // Nothing ran: the session's output ends where the first run left it.
    const page = await call(client, 'session_output', { sessionId: s.sessionId, since: 0, limit: 1_000 });
    expect((page.lines as string[]).filter((l) => l.includes(' cwd='))).toEqual([`[session] 5f0c1f2e-1111-4222-8333-944455556666 model=fake-model cwd=${cwd}`]);
  } finally {
    fs.rmSync(cwd, { force: true }); // the symlink only
  }
});
