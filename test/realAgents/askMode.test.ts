/**
 * Mode ask through the supervisor (issue 15): which agent and protocol may run it, with the real
 * CLIs as root and no IS_SANDBOX opt-in (ask needs none; only Claude's full mode does).
 */
import { until } from '../helpers/server';
import { shellCall } from '../support/modelServer';
import { closeRigs, readAll, sessionInfo, startRealRig } from '../support/agentEnv';

afterEach(closeRigs);

test('as root without IS_SANDBOX, claude ask starts (and full is refused); codex ask under CODEX_PROTOCOL=exec is refused with the way out', async () => {
  const rig = await startRealRig([{ toolCalls: [shellCall('anthropic', 'touch x.txt')] }], { sandbox: false, env: { CODEX_PROTOCOL: 'exec' } });
  expect(await rig.callError('session_start', { agent: 'claude-code', cwd: 'w', task: 't', mode: 'full' })).toMatch(/use mode "edit", "plan" or "ask", which work as root/);
  expect(await rig.callError('session_start', { agent: 'codex', cwd: 'w', task: 't', mode: 'ask' })).toMatch(/mode "ask" needs Codex over app-server.*CODEX_PROTOCOL=auto or app-server/);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'w', task: 'touch it', mode: 'ask' });
  // The agent asks and waits: its worker says so in the output, and the session runs on, undecided.
  await until(async () => (await readAll(rig.client, s.sessionId)).lines.some((l) => /^\[approval\] pending ap_\w+: Bash: touch x\.txt$/.test(l)), 30_000, 'the pending approval line');
  expect(await sessionInfo(rig.client, s.sessionId)).toMatchObject({ status: 'awaiting_approval' });
});
