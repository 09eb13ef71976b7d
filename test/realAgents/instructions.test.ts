/**
 * session_start `instructions` (issue 19 item 6) reaching the model, against the REAL `claude` and
 * `codex` CLIs and the scripted model server, which records every request: Claude's system prompt,
 * Codex's developer message (app-server `developerInstructions`, exec `-c developer_instructions`),
 * kept when the conversation is continued; and the size bound refused before anything starts.
 */
import { CLAUDE_SYSTEM_PROMPT } from '../../src/shared/agentCommands';
import { Limits } from '../../src/shared/constants';
import { closeRigs, follow, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

const INSTRUCTIONS = 'INSTR-7f3a: answer in haiku, and never touch the tests directory.';

/** Text of the Responses-API input messages of one role. */
function roleText(body: any, role: string): string {
  return (body.input as any[])
    .filter((i) => i.type === 'message' && i.role === role)
    .map((i) => i.content.map((c: any) => c.text).join(''))
    .join('\n');
}

test("claude: the instructions follow agentvisor's own in the system prompt, on every request of a continued session", async () => {
  const rig = await startRealRig([{ text: 'FIRST' }, { text: 'SECOND' }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'i', task: 'hello', instructions: INSTRUCTIONS });
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
  const resumed = await rig.call('session_send', { sessionId: s.sessionId, message: 'again' });
  expect(resumed).toMatchObject({ resumed: true });
  await follow(rig, s.sessionId);
  expect(rig.model.requests.length).toBeGreaterThanOrEqual(2);
  for (const r of rig.model.requests) {
    const system = JSON.stringify(r.body.system);
    expect(system).toContain(CLAUDE_SYSTEM_PROMPT);
    expect(system).toContain(INSTRUCTIONS);
    expect(system.indexOf(CLAUDE_SYSTEM_PROMPT)).toBeLessThan(system.indexOf(INSTRUCTIONS));
  }
  // Not the user's words: the task reaches the model as the user message, alone.
  expect(JSON.stringify(rig.model.requests[0].body.messages)).not.toContain(INSTRUCTIONS);
});

test.each(['app-server', 'exec'])('codex over %s: the instructions are a developer message, also after a resume', async (protocol) => {
  const rig = await startRealRig([{ text: 'FIRST' }, { text: 'SECOND' }], { env: { CODEX_PROTOCOL: protocol } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'i', task: 'hello', instructions: INSTRUCTIONS });
  expect(s.protocol).toBe(`codex-${protocol}`);
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
  await rig.call('session_send', { sessionId: s.sessionId, message: 'again' });
  await follow(rig, s.sessionId);
  expect(rig.model.requests).toHaveLength(2);
  for (const r of rig.model.requests) {
    expect(roleText(r.body, 'developer')).toContain(INSTRUCTIONS);
    expect(roleText(r.body, 'user')).not.toContain(INSTRUCTIONS);
  }
});

test("without instructions nothing is added (claude: agentvisor's prompt alone; codex: no such developer text)", async () => {
  const rig = await startRealRig([{ text: 'A' }, { text: 'B' }]);
  const c = await rig.call('session_start', { agent: 'claude-code', cwd: 'n', task: 'hello' });
  await waitEnded(rig.client, c.sessionId);
  const x = await rig.call('session_start', { agent: 'codex', cwd: 'n', task: 'hello' });
  await waitEnded(rig.client, x.sessionId);
  const all = JSON.stringify(rig.model.requests.map((r) => r.body));
  expect(all).toContain(CLAUDE_SYSTEM_PROMPT);
  expect(all).not.toContain('Instructions from the client');
});

test('too long, empty or with a NUL: refused with the reason, and no session starts', async () => {
  const rig = await startRealRig([]);
  const long = await rig.callError('session_start', { agent: 'claude-code', cwd: 'x', task: 't', instructions: 'x'.repeat(Limits.maxInstructionsChars + 1) });
  expect(long).toContain(`instructions must be at most ${Limits.maxInstructionsChars} characters`);
  expect(await rig.callError('session_start', { agent: 'codex', cwd: 'x', task: 't', instructions: '' })).toContain('instructions must not be empty');
  expect(await rig.callError('session_start', { agent: 'codex', cwd: 'x', task: 't', instructions: 'a\0b' })).toContain('instructions contains a NUL byte');
  expect((await rig.call('session_list')).sessions).toEqual([]);
  expect(rig.model.requests).toHaveLength(0);
});
