/**
 * Notifications with the REAL Claude CLI (against the scripted model) in mode ask: NOTIFY_URL
 * at a local receiver gets awaiting_approval when Claude asks to run a command, then exited
 * once it is allowed and the session ends — nothing of the command or the output beyond the
 * one-line summary.
 */
import { shellCall } from '../support/modelServer';
import { closeRigs, startRealRig, waitEnded } from '../support/agentEnv';
import { NotifyReceiver } from '../support/notifyReceiver';
import { until } from '../helpers/server';

jest.setTimeout(120_000);

let receiver: NotifyReceiver | undefined;
afterEach(async () => {
  await closeRigs();
  await receiver?.close();
});

test('claude in mode ask: awaiting_approval when it asks, exited when it is done', async () => {
  receiver = await NotifyReceiver.start();
  const rig = await startRealRig([{ toolCalls: [shellCall('anthropic', 'echo SECRET-COMMAND-TEXT > made.txt')] }, { text: 'made it' }], {
    env: { NOTIFY_URL: receiver.url() },
  });
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'proj', task: 'make the file', mode: 'ask' });
  await until(() => receiver!.delivered().length === 1, 60_000, 'the awaiting_approval notification');
  const [asked] = receiver.delivered();
  expect(asked).toMatchObject({
    event: 'awaiting_approval',
    sessionId: s.sessionId,
    agent: 'claude-code',
    cwd: 'proj',
    status: 'awaiting_approval',
    summary: 'claude-code in proj is waiting for an approval (command)',
  });
  const pending = (await rig.call('session_list', { status: 'awaiting_approval' })).sessions[0].pendingApprovals[0];
  await rig.call('session_approve', { sessionId: s.sessionId, approvalId: pending.approvalId, decision: 'allow' });
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  await until(() => receiver!.delivered().length === 2, 30_000, 'the exited notification');
  expect(receiver.delivered()[1]).toMatchObject({ event: 'exited', sessionId: s.sessionId, completedSuccessfully: true, summary: 'claude-code in proj finished successfully' });
  const sent = JSON.stringify(receiver.received);
  for (const never of ['SECRET-COMMAND-TEXT', 'make the file', 'made it']) expect(sent).not.toContain(never);
});
