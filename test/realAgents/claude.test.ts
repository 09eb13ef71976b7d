/**
 * The REAL Claude Code CLI (node_modules/.bin/claude), driven end to end through agentvisor's MCP
 * tools over SSE, against a scripted local model server: no network, deterministic "model".
 */
import fs from 'node:fs';
import path from 'node:path';
import { CLAUDE_SYSTEM_PROMPT } from '../../src/shared/agentCommands';
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
const RESULT_SUCCESS = /^\[result\] success duration=\d+\.\ds turns=\d+ cost=\$\d+\.\d{4}$/;
/** All text of a Messages API request's conversation (a cheap "does the model see X"). */
const conversation = (body: any): string => JSON.stringify(body.messages);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The line Claude's `system/init` event becomes, once per turn. */
const sessionLine = (sid: string, cwd: string) => expect.stringMatching(new RegExp(`^\\[session\\] ${sid} model=\\S+ cwd=${escapeRe(cwd)}$`));

test('one task: the model calls Write, the file exists, the output reads as lines, the session exits successfully', async () => {
  const rig = await startRealRig([]);
  const cwd = path.join(rig.dirs.workspace, 'one-task');
  const file = path.join(cwd, 'hello.txt');
  rig.model.push(
    // The delay keeps the turn running past session_start's reply.
    { text: 'Creating hello.txt.', toolCalls: [{ name: 'Write', input: { file_path: file, content: 'hello from claude\n' } }], delayMs: 500 },
    { text: 'Wrote hello.txt.' },
  );
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'one-task', task: 'Create hello.txt saying hello' });
  expect(s).toMatchObject({ agent: 'claude-code', cwd, status: 'running', exitCode: null, completedSuccessfully: null });
  // The first output, if Claude printed within session_start's short wait: its init event.
  for (const l of s.initialOutput.lines) expect(l).toMatch(/^\[session\] /);

  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true, errorSummary: null });
  expect(fs.readFileSync(file, 'utf8')).toBe('hello from claude\n');

  const sid = ended.agentSessionId;
  expect(sid).toMatch(UUID);
  const { lines } = await readAll(rig.client, s.sessionId);
  expect(lines).toEqual([
    sessionLine(sid, cwd),
    'Creating hello.txt.',
    `[tool] Write file_path=${file}`,
    expect.stringMatching(/^\[tool result\] File created successfully at: .*hello\.txt/),
    'Wrote hello.txt.',
    expect.stringMatching(RESULT_SUCCESS),
  ]);
  expect(lines.at(-1)).toMatch(/ turns=2 /);
  expect(lines.filter((l) => l.includes('\x1b'))).toEqual([]);

  // What reached the model: the task, agentvisor's system prompt, then Write's result.
  expect(rig.model.requests).toHaveLength(2);
  expect(JSON.stringify(rig.model.requests[0].body.system)).toContain(CLAUDE_SYSTEM_PROMPT);
  expect(conversation(rig.model.requests[0].body)).toContain('Create hello.txt saying hello');
  const toolResult = rig.model.requests[1].body.messages.at(-1).content[0];
  expect(toolResult).toMatchObject({ type: 'tool_result' });
  expect(JSON.stringify(toolResult.content)).toContain('File created successfully');

  // The agent's own session id: in session_list, session_output and the journal.
  expect((await sessionInfo(rig.client, s.sessionId)).agentSessionId).toBe(sid);
  expect((await rig.call('session_output', { sessionId: s.sessionId, since: 0, limit: 1 })).agentSessionId).toBe(sid);
  expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({ agent_session_id: sid, status: 'exited', exit_code: 0, completed_successfully: 1 });
});

test('multi-turn: a message sent mid-turn goes over the same stdin, then a message to the ended session resumes it', async () => {
  const rig = await startRealRig([]);
  const cwd = path.join(rig.dirs.workspace, 'chat');
  rig.model.push(
    { text: 'Writing notes.md first.', toolCalls: [{ name: 'Write', input: { file_path: path.join(cwd, 'notes.md'), content: '# notes\n' } }] },
    { text: 'ANSWER-ONE: notes.md is written.', delayMs: 2_000 },
    { text: 'ANSWER-TWO' },
    { text: 'ANSWER-THREE', delayMs: 1_500 },
  );
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'chat', task: 'QUESTION-ONE: write notes.md' });
  await rig.model.waitForRequests(2); // the model "thinks" about its final answer to the first message
  const sent = await rig.call('session_send', { sessionId: s.sessionId, message: 'QUESTION-TWO' });
  expect(sent).toMatchObject({ delivered: true, queued: false });

  const { lines: before, last: ended } = await follow(rig, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  const sid = ended.agentSessionId;
  expect(sid).toMatch(UUID);
  expect((await readAll(rig.client, s.sessionId)).lines).toEqual(before);
  // Both answers, each with its own result, before the session ended; one agent process throughout.
  expect(before.filter((l) => !l.startsWith('[session] '))).toEqual([
    'Writing notes.md first.',
    `[tool] Write file_path=${path.join(cwd, 'notes.md')}`,
    expect.stringMatching(/^\[tool result\] File created successfully/),
    'ANSWER-ONE: notes.md is written.',
    expect.stringMatching(RESULT_SUCCESS),
    'ANSWER-TWO',
    expect.stringMatching(RESULT_SUCCESS),
  ]);
  expect((await sessionInfo(rig.client, s.sessionId)).pid).toBe(s.pid);
  expect(rig.model.requests).toHaveLength(3);
  const second = conversation(rig.model.requests[2].body);
  for (const t of ['QUESTION-ONE', 'ANSWER-ONE', 'QUESTION-TWO']) expect(second).toContain(t);
  expect(second.indexOf('ANSWER-ONE')).toBeLessThan(second.indexOf('QUESTION-TWO'));

  // The session has ended: a message continues it (claude --resume <id>, same cwd and HOME).
  const resumed = await rig.call('session_send', { sessionId: s.sessionId, message: 'QUESTION-THREE' });
  expect(resumed).toMatchObject({ delivered: true, resumed: true });
  await rig.model.waitForRequests(4);
  const running = (await rig.call('session_list')).sessions.find((x: any) => x.sessionId === s.sessionId);
  expect(running).toMatchObject({ status: 'running', endedAt: null, exitCode: null, agentSessionId: sid });
  expect(running.pid).not.toBe(s.pid);
  const { lines: added, last: again } = await follow(rig, s.sessionId, before.length);
  expect(again).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true, agentSessionId: sid });
  expect(added).toEqual([sessionLine(sid, cwd), 'ANSWER-THREE', expect.stringMatching(RESULT_SUCCESS)]);
  expect((await readAll(rig.client, s.sessionId)).lines).toEqual([...before, ...added]); // offsets carry on
  // The model saw the whole conversation, loaded from the transcript under the shared HOME.
  const third = conversation(rig.model.requests[3].body);
  for (const t of ['QUESTION-ONE', 'ANSWER-ONE', 'QUESTION-TWO', 'ANSWER-TWO', 'QUESTION-THREE']) expect(third).toContain(t);
  const projects = path.join(rig.dirs.base, 'home', '.claude', 'projects');
  expect(fs.readdirSync(projects).some((d) => fs.existsSync(path.join(projects, d, `${sid}.jsonl`)))).toBe(true);
  saveTranscript('claude-multi-turn', rig);
});

test('a message sent while Claude works through tool calls is folded into that turn; its one result ends the session', async () => {
  const rig = await startRealRig([{ toolCalls: [{ name: 'Bash', input: { command: 'echo STEP-ONE', description: 'step one' } }], delayMs: 2_000 }, { text: 'ANSWER-BOTH' }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'fold', task: 'QUESTION-ONE' });
  await rig.model.waitForRequests(1);
  expect(await rig.call('session_send', { sessionId: s.sessionId, message: 'QUESTION-TWO' })).toMatchObject({ delivered: true });
  const t0 = Date.now();
  const ended = await waitEnded(rig.client, s.sessionId, 30_000);
  // Not a hang: Claude answered both messages with one result, and agentvisor knew it from
  // Claude's echo of each message (--replay-user-messages), so it ended the input at once.
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
  const lines = (await readAll(rig.client, s.sessionId)).lines;
  expect(lines.filter((l) => !l.startsWith('[session] '))).toEqual(['[tool] Bash command=echo STEP-ONE', '[tool result] STEP-ONE', 'ANSWER-BOTH', expect.stringMatching(RESULT_SUCCESS)]);
  expect(rig.model.requests).toHaveLength(2);
  const folded = JSON.stringify(rig.model.requests[1].body.messages.slice(-2));
  expect(folded).toContain('The user sent a new message while you were working:\\nQUESTION-TWO');
});

test('success follows the final result: is_error ends the session unsuccessful (the real CLI exits 1 then), a later success ends it well', async () => {
  const rig = await startRealRig([{ httpStatus: 401, error: 'invalid x-api-key' }], { maxRetries: 0 });
  const failed = await rig.call('session_start', { agent: 'claude-code', cwd: 'results', task: 'first' });
  const f = await waitEnded(rig.client, failed.sessionId);
  // Claude Code 2.1 reports the API failure as `result` {subtype: "success", is_error: true}
  // and then exits 1: the exit code and the result agree, and both say "failed".
  expect(f).toMatchObject({ status: 'exited', exitCode: 1, completedSuccessfully: false });
  expect(f.errorSummary).toBe('the model provider rejected the API key (not logged in or a wrong key)');
  const fl = (await readAll(rig.client, failed.sessionId)).lines;
  // Claude's own words for a 401 whose message says "invalid x-api-key".
  expect(fl).toContain('[error] Invalid API key · Fix external API key');
  expect(fl.find((l) => l.startsWith('[result] '))).toMatch(/^\[result\] error duration=/);

  // An error result followed by a successful one in the same process: Claude exits 0, and
  // the session counts as successful, with no stale error summary.
  rig.model.push({ httpStatus: 401, error: 'invalid x-api-key', delayMs: 1_000 }, { text: 'RECOVERED' });
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'results', task: 'second' });
  await rig.model.waitForRequests(2);
  expect(await rig.call('session_send', { sessionId: s.sessionId, message: 'try again' })).toMatchObject({ delivered: true });
  const ok = await waitEnded(rig.client, s.sessionId);
  expect(ok).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true, errorSummary: null });
  const lines = (await readAll(rig.client, s.sessionId)).lines.filter((l) => l.startsWith('[result] '));
  expect(lines).toEqual([expect.stringMatching(/^\[result\] error /), expect.stringMatching(RESULT_SUCCESS)]);
});

test('a session that prints nothing while alive shows a growing silentForMs in session_list', async () => {
  const rig = await startRealRig([{ text: 'finally', delayMs: 3_500 }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'quiet', task: 'think hard' });
  await rig.model.waitForRequests(1);
  const a = await sessionInfo(rig.client, s.sessionId);
  await new Promise((r) => setTimeout(r, 1_500));
  const b = (await rig.call('session_list')).sessions.find((x: any) => x.sessionId === s.sessionId);
  expect(a.status).toBe('running');
  expect(b.status).toBe('running');
  expect(b.lastOutputAt).toBe(a.lastOutputAt);
  expect(b.silentForMs).toBeGreaterThanOrEqual(a.silentForMs + 1_400);
  expect(b.silentForMs).toBeGreaterThanOrEqual(1_400);
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
  // The answer came: silence is measured to the last output again (and stops at the end).
  const c = await sessionInfo(rig.client, s.sessionId);
  expect(c.lastOutputAt).not.toBe(a.lastOutputAt);
  expect(c.silentForMs).toBeLessThan(b.silentForMs);
});

test('session_kill during a long Bash command ends Claude and the command: nothing is left', async () => {
  const rig = await startRealRig([{ toolCalls: [{ name: 'Bash', input: { command: 'sleep 120', description: 'wait' } }] }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'long', task: 'sleep' });
  // Claude runs the command in a session of its own (setsid), outside the group agentvisor signals,
  // and exits on SIGTERM without ending it: the worker must end it itself (processTree.ts).
  await until(() => leftovers(rig.dirs).some((pid) => cmdline(pid) === 'sleep\x00120\x00'), 20_000, 'the sleep command to run');
  const killed = await rig.call('session_kill', { sessionId: s.sessionId });
  expect(['killed', 'killing']).toContain(killed.status);
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'killed', completedSuccessfully: false });
  await until(() => leftovers(rig.dirs, [rig.server.proc.pid!]).length === 0, 10_000, 'every agent process gone');
});
