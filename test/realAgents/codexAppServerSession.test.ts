/**
 * Codex over app-server through agentvisor itself (supervisor, worker, AgentSession): the real
 * codex 0.169 against the scripted model server, the protocol chosen by capability detection.
 */
import { call } from '../helpers/server';
import { closeRigs, follow, journalRow, readAll, restartRealServer, saveTranscript, sessionInfo, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

/** Text of the Responses-API user messages, without Codex's own context messages. */
function userSaid(body: any): string[] {
  const texts = (body.input as any[]).filter((i) => i.type === 'message' && i.role === 'user').map((i) => i.content.map((c: any) => c.text).join(''));
  return texts.filter((t: string) => !t.startsWith('<environment_context>'));
}

test('CODEX_PROTOCOL=auto picks app-server: a message mid-turn is steered into it, and one after the end resumes the thread', async () => {
  const rig = await startRealRig([{ text: 'slow first answer', delayMs: 2_000 }, { text: 'Took the steer.' }, { text: 'Second turn.' }], { env: { CODEX_PROTOCOL: 'auto' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'w', task: 'first task' });
  await rig.model.waitForRequests(1);
  const steer = await rig.call('session_send', { sessionId: s.sessionId, message: 'steer it' });
  expect(steer).toMatchObject({ delivered: true, queued: false, steered: true });
  const { last: ended } = await follow(rig, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true, errorSummary: null });
  // One turn, not two: the steered message is in the model's next request of the same turn.
  expect(rig.model.requests).toHaveLength(2);
  expect(userSaid(rig.model.requests[1].body)).toEqual(['first task', 'steer it']);

  const again = await rig.call('session_send', { sessionId: s.sessionId, message: 'and then?' });
  expect(again).toMatchObject({ delivered: true, resumed: true });
  expect((await follow(rig, s.sessionId, ended.nextOffset)).last).toMatchObject({ status: 'exited', completedSuccessfully: true, agentSessionId: ended.agentSessionId });
  expect(userSaid(rig.model.requests[2].body)).toEqual(['first task', 'steer it', 'and then?']);

  const { lines } = await readAll(rig.client, s.sessionId);
  const own = lines.filter((l) => !/ WARNING | ERROR |^WARNING: |^\[agentvisor\]/.test(l));
  expect(own).toEqual(['Took the steer.', expect.stringMatching(/^\[result\] success tokens in=10 out=5 /), 'Second turn.', expect.stringMatching(/^\[result\] success tokens in=10 out=5 /)]);
  expect(await sessionInfo(rig.client, s.sessionId)).toMatchObject({ status: 'exited', protocol: 'codex-app-server' });
  expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({ protocol: 'codex-app-server' });
  saveTranscript('codex-app-server-multi-turn', rig);
});

test('CODEX_PROTOCOL=exec keeps the terminal path: a mid-turn message is queued, not steered', async () => {
  const rig = await startRealRig([{ text: 'slow', delayMs: 1_500 }, { text: 'next' }], { env: { CODEX_PROTOCOL: 'exec' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'w', task: 'task' });
  await rig.model.waitForRequests(1);
  const sent = await rig.call('session_send', { sessionId: s.sessionId, message: 'later' });
  expect(sent).toMatchObject({ delivered: false, queued: true });
  expect(sent.steered).toBeUndefined();
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(await sessionInfo(rig.client, s.sessionId)).toMatchObject({ protocol: 'codex-exec' });
});

test('after a supervisor SIGKILL and restart, the running app-server session is re-attached and later resumed with its history', async () => {
  const rig = await startRealRig([{ text: 'answer after the crash', delayMs: 2_000 }, { text: 'Resumed fine.' }], { env: { CODEX_PROTOCOL: 'auto' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'w', task: 'survive this' });
  await rig.model.waitForRequests(1);
  await rig.server.kill();
  const { server: second, client } = await restartRealServer(rig, { CODEX_PROTOCOL: 'auto' });
  try {
    const ended = await waitEnded(client, s.sessionId);
    expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
    const resumed = await call(client, 'session_send', { sessionId: s.sessionId, message: 'still with me?' });
    expect(resumed).toMatchObject({ delivered: true, resumed: true });
    expect(await waitEnded(client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
    expect(userSaid(rig.model.requests[1].body)).toEqual(['survive this', 'still with me?']);
    const { lines } = await readAll(client, s.sessionId);
    expect(lines).toEqual(expect.arrayContaining(['answer after the crash', 'Resumed fine.']));
    expect(await sessionInfo(client, s.sessionId)).toMatchObject({ protocol: 'codex-app-server' });
  } finally {
    await client.close();
    await second.stop();
  }
});

test('raw input is refused with the reason; interrupt: true stops the turn and a later message continues the thread', async () => {
  const rig = await startRealRig([{ text: 'never sent', delayMs: 60_000 }, { text: 'Picked it up again.' }], { env: { CODEX_PROTOCOL: 'auto' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'w', task: 'long job' });
  await rig.model.waitForRequests(1);
  const raw = await rig.call('session_send', { sessionId: s.sessionId, message: 'y\r', raw: true });
  expect(raw).toMatchObject({ delivered: false, queued: false, note: expect.stringMatching(/needs a terminal.*CODEX_PROTOCOL=exec/) });
  await rig.call('session_send', { sessionId: s.sessionId, interrupt: true });
  const stopped = await waitEnded(rig.client, s.sessionId);
  expect(stopped.completedSuccessfully).toBe(false);
  const more = await rig.call('session_send', { sessionId: s.sessionId, message: 'go on' });
  expect(more).toMatchObject({ delivered: true, resumed: true });
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(userSaid(rig.model.requests[1].body)).toEqual(['long job', 'go on']);
  const { lines } = await readAll(rig.client, s.sessionId);
  expect(lines).toContainEqual(expect.stringMatching(/^\[result\] interrupted /));
  expect(lines).toContain('Picked it up again.');
});
