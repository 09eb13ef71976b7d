/**
 * The REAL Codex CLI (node_modules/.bin/codex, 0.169: a Node wrapper that spawns the native binary)
 * driven end to end through agentvisor's MCP tools over SSE, against a scripted local model server.
 * Codex reads its provider from $CODEX_HOME/config.toml (see test/support/agentEnv.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { leftovers, until } from '../helpers/server';
import { closeRigs, follow, journalRow, readAll, saveTranscript, sessionInfo, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

/** A process's argv as one NUL-separated string ('' once it has gone). */
function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// C0 controls (bar tab) and DEL: nothing of the terminal's escape sequences may reach a client.

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Text of the Responses-API input messages of one role, in order. */
function messages(body: any, role: string): string[] {
  return (body.input as any[]).filter((i) => i.type === 'message' && i.role === role).map((i) => i.content.map((c: any) => c.text).join(''));
}

test('one task: a real shell command through exec_command creates the file; plain lines; exit 0 and success without any input', async () => {
  const rig = await startRealRig([
    { text: 'Creating made.txt.', toolCalls: [{ name: 'exec_command', input: { cmd: 'printf "made by codex" > made.txt && echo WROTE-IT' } }] },
    { text: 'Created made.txt.' },
  ]);
  const cwd = path.join(rig.dirs.workspace, 'one-task');
  const t0 = Date.now();
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'one-task', task: 'Create made.txt' });
  expect(s).toMatchObject({ agent: 'codex', cwd });
  // Nothing is ever sent: under its PTY Codex never waits for stdin.
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(Date.now() - t0).toBeLessThan(30_000);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true, errorSummary: null });
  expect(fs.readFileSync(path.join(cwd, 'made.txt'), 'utf8')).toBe('made by codex');

  const thread = ended.agentSessionId;
  expect(thread).toMatch(UUID);
  const { lines } = await readAll(rig.client, s.sessionId);
  expect(lines.filter((l) => l.includes('\x1b'))).toEqual([]); // no escape sequence in any line
  expect(lines.filter((l) => CONTROL.test(l))).toEqual([]); // nor any other control character
  expect(lines).toEqual(expect.arrayContaining([`workdir: ${cwd}`, 'provider: local', `session id: ${thread}`, 'Create made.txt', 'Creating made.txt.', 'WROTE-IT', 'Created made.txt.']));
  const cmdLine = lines.findIndex((l) => l.includes(`printf "made by codex" > made.txt && echo WROTE-IT' in ${cwd}`));
  expect(cmdLine).toBeGreaterThan(lines.indexOf('Creating made.txt.'));
  expect(lines.indexOf('WROTE-IT')).toBeGreaterThan(cmdLine);
  expect(lines.indexOf('Created made.txt.')).toBeGreaterThan(lines.indexOf('WROTE-IT'));

  // The model got the command's output back, in the same thread.
  expect(rig.model.requests).toHaveLength(2);
  expect(messages(rig.model.requests[0].body, 'user')).toContain('Create made.txt');
  const outputs = (rig.model.requests[1].body.input as any[]).filter((i) => /_call_output$/.test(i.type));
  expect(JSON.stringify(outputs)).toContain('WROTE-IT');
  expect(rig.model.requests[1].headers['thread-id']).toBe(thread);

  expect((await sessionInfo(rig.client, s.sessionId)).agentSessionId).toBe(thread);
  expect((await rig.call('session_output', { sessionId: s.sessionId, since: 0, limit: 1 })).agentSessionId).toBe(thread);
  expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({ agent_session_id: thread, status: 'exited', exit_code: 0, completed_successfully: 1 });
});

test('multi-turn: a message mid-turn is queued and becomes the next turn; raw input reaches the PTY; a message after the end continues the thread', async () => {
  const rig = await startRealRig([
    { text: 'FIRST-ANSWER', delayMs: 2_000 },
    { text: 'SECOND-ANSWER' },
    { toolCalls: [{ name: 'exec_command', input: { cmd: 'echo THIRD-TOOL-RAN > third.txt' } }], delayMs: 1_500 },
    { text: 'THIRD-ANSWER' },
  ]);
  const cwd = path.join(rig.dirs.workspace, 'chat');
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'chat', task: 'FIRST-TASK' });
  await rig.model.waitForRequests(1); // the first turn is in progress

  // raw: keystrokes into the terminal. `codex exec` does not read them, but the PTY echoes them.
  const raw = await rig.call('session_send', { sessionId: s.sessionId, message: 'RAW-KEYS\r', raw: true });
  expect(raw).toMatchObject({ delivered: true, queued: false });
  const queued = await rig.call('session_send', { sessionId: s.sessionId, message: 'SECOND-TASK' });
  expect(queued).toMatchObject({ delivered: false, queued: true });
  expect(queued.note).toMatch(/next turn when the current one ends/);

  const { lines: before, last: ended } = await follow(rig, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  const thread = ended.agentSessionId;
  expect(thread).toMatch(UUID);
  expect((await readAll(rig.client, s.sessionId)).lines).toEqual(before);
  expect(before).toContain('RAW-KEYS');
  // The queued message ran as the next turn of the same thread (`exec resume <thread> -- <msg>`).
  const story = before.filter((l) => /^(FIRST|SECOND)-|^\[agentvisor\]|^session id: /.test(l));
  expect(story).toEqual([
    `session id: ${thread}`,
    'FIRST-TASK',
    'FIRST-ANSWER',
    '[agentvisor] continuing the conversation with 1 queued message(s)',
    `session id: ${thread}`,
    'SECOND-TASK',
    'SECOND-ANSWER',
  ]);
  expect(rig.model.requests).toHaveLength(2);
  const second = rig.model.requests[1];
  expect(messages(second.body, 'user')).toEqual(expect.arrayContaining(['FIRST-TASK', 'SECOND-TASK']));
  expect(messages(second.body, 'assistant')).toContain('FIRST-ANSWER');
  expect(second.headers['thread-id']).toBe(thread);

  // Ended: the next message continues the same thread in the same agentvisor session. It starts
  // with "--": only the "--" agentvisor puts before it keeps Codex from reading it as a flag.
  const msg = '--version? no: THIRD-TASK';
  const t0 = Date.now();
  const resumed = await rig.call('session_send', { sessionId: s.sessionId, message: msg });
  expect(resumed).toMatchObject({ delivered: true, resumed: true });
  await rig.model.waitForRequests(3);
  const running = await sessionInfo(rig.client, s.sessionId);
  expect(running).toMatchObject({ status: 'running', endedAt: null, exitCode: null, agentSessionId: thread });
  // Silence counts from the resume, not from the session's first start.
  expect(running.silentForMs).toBeLessThanOrEqual(Date.now() - t0);
  const { lines: added, last: again } = await follow(rig, s.sessionId, before.length);
  expect(again).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true, agentSessionId: thread });
  const after = (await readAll(rig.client, s.sessionId)).lines;
  expect(after).toEqual([...before, ...added]); // offsets carry on
  expect(added).toEqual(expect.arrayContaining([`session id: ${thread}`, msg, 'THIRD-ANSWER']));
  expect(fs.readFileSync(path.join(cwd, 'third.txt'), 'utf8')).toBe('THIRD-TOOL-RAN\n');
  expect(rig.model.requests).toHaveLength(4);
  const third = rig.model.requests[2];
  expect(messages(third.body, 'user')).toEqual(expect.arrayContaining(['FIRST-TASK', 'SECOND-TASK', msg]));
  expect(messages(third.body, 'assistant')).toEqual(expect.arrayContaining(['FIRST-ANSWER', 'SECOND-ANSWER']));
  expect(third.headers['thread-id']).toBe(thread);
  expect(after.filter((l) => CONTROL.test(l))).toEqual([]);
  saveTranscript('codex-multi-turn', rig);
});

test('session_kill during a long shell command ends Codex, its command and its helpers: nothing is left', async () => {
  const rig = await startRealRig([{ text: 'Sleeping.', toolCalls: [{ name: 'exec_command', input: { cmd: 'sleep 120' } }] }]);
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'long', task: 'sleep' });

  // Codex runs the command in a session of its own and its code-mode host in a group of its
  // own: neither is in the agent's process group that agentvisor signals.
  await until(() => leftovers(rig.dirs).some((pid) => cmdline(pid).split('\0')[0] === 'sleep'), 20_000, 'the sleep command to run');
  const native = leftovers(rig.dirs).filter((pid) => /codex-linux-x64\/.*\/codex(-code-mode-host)?$/.test(cmdline(pid).split('\0')[0]));
  expect(native.length).toBeGreaterThanOrEqual(2); // the native codex binary and its code-mode host
  const killed = await rig.call('session_kill', { sessionId: s.sessionId });
  expect(['killed', 'killing']).toContain(killed.status);
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'killed', completedSuccessfully: false });
  expect((await sessionInfo(rig.client, s.sessionId)).endReason).toBe('killed');
  // The agent passed SIGTERM on to everything it started.
  await until(() => leftovers(rig.dirs, [rig.server.proc.pid!]).length === 0, 10_000, 'every agent process gone');
});
