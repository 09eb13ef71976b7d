/**
 * Claude's usage (issue 14 item 5) with the REAL claude CLI against the scripted model server:
 * tokens from each turn's `result` event add up to what the model server reported, and the
 * cost Claude computes arrives with them, in the worker's WorkerState (its final record).
 */
import fs from 'node:fs';
import path from 'node:path';
import { until } from '../helpers/server';
import { closeRigs, journalRow, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

test('two turns in one Claude process: WorkerState.usage has the tokens the model server reported, the cost, and the turns', async () => {
  const rig = await startRealRig([
    { text: 'Running it.', toolCalls: [{ name: 'Bash', input: { command: 'echo hi', description: 'say hi' } }] },
    // The delay keeps the first turn open while the second message arrives.
    { text: 'ANSWER-ONE', delayMs: 1_500 },
    { text: 'ANSWER-TWO' },
  ]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'usage', task: 'QUESTION-ONE' });
  await rig.model.waitForRequests(2);
  expect(await rig.call('session_send', { sessionId: s.sessionId, message: 'QUESTION-TWO' })).toMatchObject({ delivered: true });
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });

  // The scripted model server reports 10 input and 5 output tokens per response, none cached.
  const responses = rig.model.requests.length;
  expect(responses).toBe(3);
  const finalFile = path.join(String(journalRow(rig.dirs, s.sessionId)?.session_dir), 'final.json');
  await until(() => fs.existsSync(finalFile), 10_000, 'final.json');
  const state = JSON.parse(fs.readFileSync(finalFile, 'utf8'));
  expect(state.usage).toEqual({ inputTokens: 10 * responses, cachedInputTokens: 0, outputTokens: 5 * responses, costUsd: expect.any(Number), turns: 2 });
  expect(state.usage.costUsd).toBeGreaterThan(0);
});
