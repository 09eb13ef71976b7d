/**
 * Workspace escapes through a session's cwd (#12 items 9 and 10), against a real supervisor,
 * real workers and the fake agents.
 *
 * Item 10: a running session's cwd replaced by a symlink to / must not widen what the file
 * tools may read: the allowed roots are the directories recorded at start, and one whose path
 * no longer leads to the same directory (device + inode) is dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect } from '../helpers/server';
import { finish, startSecurityServer } from './support';

let server: RunningServer;
let client: Client;
let ws: string;

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
