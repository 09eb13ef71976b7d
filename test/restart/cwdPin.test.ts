/**
 * The pinned cwd roots survive a supervisor restart (#12 item 10): a new supervisor on the same
 * STATE_DIR takes each running session's recorded directory identity from its spec, so a cwd
 * swapped for a symlink to / after the restart opens nothing to the file tools either.
 */
import fs from 'node:fs';
import path from 'node:path';
import { call, callError, until } from '../helpers/server';
import { restartRig } from './support';

const rig = restartRig('agentvisor-cwdpin-', {
  beforeCleanup: (dirs) => {
    fs.rmSync(path.join(dirs.workspace, 'proj'), { force: true }); // the symlink only, never what it points to
  },
});

test("after a supervisor restart, a running session's cwd swapped for a symlink to / opens nothing", async () => {
  const first = await rig.up();
  const s = await call(first.client, 'session_start', { agent: 'claude-code', cwd: 'proj', task: 'slow 120000 stay running' });
  await first.server.kill();

  const second = await rig.up();
  await until(async () => (await call(second.client, 'session_output', { sessionId: s.sessionId, since: 0, limit: 1 })).status === 'running', 20_000, 'the session to be re-attached');

  const cwd = path.join(rig.dirs.workspace, 'proj');
  fs.renameSync(cwd, path.join(rig.dirs.workspace, 'proj.moved'));
  fs.symlinkSync('/', cwd);
  expect(await callError(second.client, 'read_file', { path: '/etc/passwd' })).toMatch(/outside the allowed roots/);
  expect(await callError(second.client, 'list_directory', { path: '/root' })).toMatch(/outside the allowed roots/);
  await call(second.client, 'session_kill', { sessionId: s.sessionId });
});
