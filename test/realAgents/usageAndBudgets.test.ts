/**
 * Usage (issue 14) and budgets (issue 18 item 2) with the REAL claude and codex (app-server) CLIs
 * against the scripted model server: the usage each session reports equals what the model server
 * sent, in session_list, session_wait and the operator CLI, and keeps adding up when the session
 * is continued by a new worker, across a supervisor SIGKILL too; a scripted model that reports
 * usage past maxCostUsd (Claude) or maxTokens (Codex), or a turn that outlasts maxDurationMs, ends
 * the session budget_exceeded, and continuing it is refused until the limit is raised.
 */
import { TEST_TOKEN, call } from '../helpers/server';
import { cliEnv, runCli } from '../cli/cli';
import { type RealRig, closeRigs, journalRow, readAll, restartRealServer, sessionInfo, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

/** The usage a session should report for what the model server sent so far. */
function expectedUsage(rig: RealRig, turns: number, cost: 'number' | 'null') {
  const { inputTokens, outputTokens } = rig.model.reportedUsage();
  return { inputTokens, cachedInputTokens: 0, outputTokens, costUsd: cost === 'null' ? null : expect.any(Number), turns };
}

const cli = (rig: RealRig, args: string[]) => runCli(args, cliEnv(rig.dirs, { AUTH_TOKEN: TEST_TOKEN }), rig.dirs.base);

test('Claude: usage equals what the model server reported, in session_list, session_wait and the CLI, and adds up across a resume', async () => {
  const rig = await startRealRig([
    { text: 'first', usage: { inputTokens: 120, outputTokens: 30 } },
    { text: 'second', usage: { inputTokens: 200, outputTokens: 7 } },
  ]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'u', task: 'one' });
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', usage: expectedUsage(rig, 1, 'number') });
  const first = (await sessionInfo(rig.client, s.sessionId)).usage;
  expect(first).toEqual(expectedUsage(rig, 1, 'number'));
  expect(first.costUsd).toBeGreaterThan(0);

  expect(await rig.call('session_send', { sessionId: s.sessionId, message: 'two' })).toMatchObject({ resumed: true });
  await waitEnded(rig.client, s.sessionId);
  const info = await sessionInfo(rig.client, s.sessionId);
  // The new worker counted on from the first one's: the session's totals, not the second run's.
  expect(rig.model.reportedUsage()).toEqual({ inputTokens: 320, outputTokens: 37 });
  expect(info.usage).toEqual(expectedUsage(rig, 2, 'number'));
  expect(info.usage.costUsd).toBeGreaterThan(first.costUsd);
  expect(info.runMs).toBeGreaterThan(0);
  expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({ input_tokens: 320, output_tokens: 37, turns: 2, cost_usd: info.usage.costUsd });

  const shown = JSON.parse((await cli(rig, ['show', s.sessionId, '--json'])).stdout);
  expect(shown.session.usage).toEqual(info.usage);
  const table = (await cli(rig, ['sessions', '--all'])).stdout;
  expect(table).toMatch(new RegExp(`^${s.sessionId.slice(0, 8)}\\s.*\\$${info.usage.costUsd.toFixed(2)} 357 tok\\s`, 'm'));
});

test('Codex over app-server: usage equals what the model server reported, and adds up across a resume after a supervisor SIGKILL', async () => {
  const rig = await startRealRig(
    [
      { text: 'first', usage: { inputTokens: 40, outputTokens: 2 } },
      { text: 'second', usage: { inputTokens: 60, outputTokens: 3 } },
    ],
    { env: { CODEX_PROTOCOL: 'app-server' } },
  );
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'u', task: 'one' });
  await waitEnded(rig.client, s.sessionId);
  expect((await sessionInfo(rig.client, s.sessionId)).usage).toEqual(expectedUsage(rig, 1, 'null'));

  await rig.server.kill();
  const { server: second, client } = await restartRealServer(rig, { CODEX_PROTOCOL: 'app-server' });
  try {
    expect(await call(client, 'session_send', { sessionId: s.sessionId, message: 'two' })).toMatchObject({ resumed: true });
    const page = await waitEnded(client, s.sessionId);
    expect(rig.model.reportedUsage()).toEqual({ inputTokens: 100, outputTokens: 5 });
    expect(page.usage).toEqual(expectedUsage(rig, 2, 'null'));
    expect((await sessionInfo(client, s.sessionId)).usage).toEqual(expectedUsage(rig, 2, 'null'));
  } finally {
    await client.close();
    await second.stop();
  }
});

test('Claude past maxCostUsd: the session ends budget_exceeded with a line naming the limit; continuing needs a higher limit', async () => {
  // A million input tokens cost dollars at any Claude price: far past the 0.05 limit after the first response.
  const rig = await startRealRig([
    { text: 'Running it.', toolCalls: [{ name: 'Bash', input: { command: 'echo hi', description: 'say hi' } }], usage: { inputTokens: 1_000_000, outputTokens: 10 } },
    { text: 'never reached' },
    { text: 'continued' },
  ]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'b', task: 'spend', limits: { maxCostUsd: 0.05 } });
  expect(s.limits).toEqual({ maxCostUsd: 0.05, maxTokens: null, maxTurns: null, maxDurationMs: null });
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ completedSuccessfully: false });
  const info = await sessionInfo(rig.client, s.sessionId);
  // Claude's own --max-budget-usd stops it too (a result "error" with the cost); the worker's line and end are agentvisor's.
  expect(info).toMatchObject({ status: 'killed', endReason: 'budget_exceeded' });
  expect(info.usage.costUsd).toBeGreaterThanOrEqual(0.05);
  const { lines } = await readAll(rig.client, s.sessionId);
  expect(lines).toContainEqual(expect.stringMatching(/^\[agentvisor\] budget exceeded: maxCostUsd 0\.05 \(spent \d+\.\d\d\)$/));

  const refused = await rig.callError('session_send', { sessionId: s.sessionId, message: 'more' });
  expect(refused).toMatch(/has reached its budget: maxCostUsd 0\.05 .*pass session_send a higher limits\.maxCostUsd/);
  const requestsBefore = rig.model.requests.length;
  expect(await rig.call('session_send', { sessionId: s.sessionId, message: 'more', limits: { maxCostUsd: 1_000 } })).toMatchObject({ resumed: true });
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(rig.model.requests.length).toBeGreaterThan(requestsBefore);
  expect((await sessionInfo(rig.client, s.sessionId)).limits).toMatchObject({ maxCostUsd: 1_000 });
});

test('Codex over app-server past maxTokens: the session ends budget_exceeded mid-turn', async () => {
  const rig = await startRealRig(
    [
      { text: 'Running it.', toolCalls: [{ name: 'exec_command', input: { cmd: 'echo hi' } }], usage: { inputTokens: 400, outputTokens: 200 } },
      { text: 'never reached', delayMs: 30_000 },
    ],
    { env: { CODEX_PROTOCOL: 'app-server' } },
  );
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'b', task: 'spend', limits: { maxTokens: 500 } });
  await waitEnded(rig.client, s.sessionId);
  const info = await sessionInfo(rig.client, s.sessionId);
  expect(info).toMatchObject({ status: 'killed', endReason: 'budget_exceeded', usage: { inputTokens: 400, outputTokens: 200, costUsd: null } });
  const { lines } = await readAll(rig.client, s.sessionId);
  expect(lines).toContain('[agentvisor] budget exceeded: maxTokens 500 (spent 600)');
  expect(await rig.callError('session_send', { sessionId: s.sessionId, message: 'more' })).toMatch(/maxTokens 500 \(spent 600\)/);
});

test('maxDurationMs: a turn that outlasts it is stopped, from a server default (DEFAULT_MAX_DURATION_MS)', async () => {
  const rig = await startRealRig([{ text: 'too late', delayMs: 60_000 }], { env: { CODEX_PROTOCOL: 'app-server', DEFAULT_MAX_DURATION_MS: '3000' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'b', task: 'slow' });
  expect(s.limits).toEqual({ maxCostUsd: null, maxTokens: null, maxTurns: null, maxDurationMs: 3_000 });
  await rig.model.waitForRequests(1);
  await waitEnded(rig.client, s.sessionId);
  const info = await sessionInfo(rig.client, s.sessionId);
  expect(info).toMatchObject({ status: 'killed', endReason: 'budget_exceeded' });
  expect(info.runMs).toBeGreaterThanOrEqual(3_000);
  const { lines } = await readAll(rig.client, s.sessionId);
  expect(lines).toContainEqual(expect.stringMatching(/^\[agentvisor\] budget exceeded: maxDurationMs 3000 \(ran \d+\)$/));
});
