/**
 * node-pty is optional (issue 19 item 3): the real supervisor and its workers, run from an install
 * where node-pty cannot be loaded (test/support/withoutNodePty.ts), with the REAL CLIs and the
 * scripted model server. A Claude session and a Codex session over app-server run as usual; what
 * needs a terminal (Codex over exec) is refused before anything starts, naming the fix; doctor
 * warns and says how to get node-pty.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { closeRigs, readAll, startRealRig, waitEnded } from '../support/agentEnv';
import { type InstallWithoutPty, installWithoutNodePty } from '../support/withoutNodePty';

/** doctor runs every check (the agents' --help included) once; it takes seconds on a loaded box. */
const DOCTOR_TIMEOUT_MS = 60_000;

let install: InstallWithoutPty;
beforeAll(() => {
  install = installWithoutNodePty();
});
afterAll(() => install.remove());
afterEach(closeRigs);

const command = () => [process.execPath, install.cli, 'serve'];

test('the copy really cannot load node-pty', () => {
  // A node of its own resolving from the copy's dist/src, as agentvisor's files do.
  const r = spawnSync(process.execPath, ['-e', "require('node-pty')"], { cwd: path.dirname(install.cli), encoding: 'utf8' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain("Cannot find module 'node-pty'");
});

test('Claude runs; Codex over exec is refused with the reason and the fix, and no session is created', async () => {
  const rig = await startRealRig([{ text: 'CLAUDE-WITHOUT-PTY' }], { command: command(), env: { CODEX_PROTOCOL: 'exec' } });
  const refused = await rig.callError('session_start', { agent: 'codex', cwd: 'p', task: 'hi' });
  expect(refused).toContain("Codex over exec (CODEX_PROTOCOL=exec) needs a terminal, but node-pty does not load (Cannot find module 'node-pty'");
  expect(refused).toContain('npm install node-pty');
  expect(refused).toContain('CODEX_PROTOCOL=auto or app-server');
  expect((await rig.call('session_list', { status: 'all' })).sessions).toEqual([]);

  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'p', task: 'hello' });
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  expect((await readAll(rig.client, s.sessionId)).lines).toContain('CLAUDE-WITHOUT-PTY');
  // Raw input to Claude goes to its stdin, no terminal needed: accepted while it runs (checked by the send tool's own tests).
});

test('Codex over app-server (CODEX_PROTOCOL=auto) runs without node-pty', async () => {
  const rig = await startRealRig([{ text: 'CODEX-WITHOUT-PTY' }], { command: command(), env: { CODEX_PROTOCOL: 'auto' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'p', task: 'hello' });
  expect(s.protocol).toBe('codex-app-server');
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  expect((await readAll(rig.client, s.sessionId)).lines).toContain('CODEX-WITHOUT-PTY');
});

test('a Codex exec session from an install with node-pty cannot be continued by one without it: refused with the reason', async () => {
  const rig = await startRealRig([{ text: 'FIRST' }], { env: { CODEX_PROTOCOL: 'exec' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'x', task: 'hello' });
  expect(s.protocol).toBe('codex-exec');
  await waitEnded(rig.client, s.sessionId);
  await rig.restart({ command: command() });
  const refused = await rig.callError('session_send', { sessionId: s.sessionId, message: 'again' });
  expect(refused).toContain(`session ${s.sessionId} runs Codex over exec, so continuing it needs a terminal, but node-pty does not load (Cannot find module 'node-pty'`);
  expect(refused).toContain('npm install node-pty');
  expect(rig.model.requests).toHaveLength(1);
});

test('doctor warns (not fails) about node-pty and says how to get it', async () => {
  const rig = await startRealRig([], { command: command() });
  const out = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      [install.cli, 'doctor'],
      { cwd: rig.dirs.base, timeout: DOCTOR_TIMEOUT_MS, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: rig.dirs.base, STATE_DIR: rig.dirs.stateDir, WORKSPACE_DIR: rig.dirs.workspace } },
      (_err, stdout) => resolve(stdout),
    );
  });
  const line = out.split('\n').find((l) => /^\S+\s+node-pty\s/.test(l));
  expect(line).toMatch(/^WARN\s+node-pty\s+node-pty does not load \(Cannot find module 'node-pty'.*Codex over exec \(CODEX_PROTOCOL=exec\) is refused/);
  expect(out).toContain('npm install node-pty');
});
