/**
 * Budgets through the real supervisor and workers with the fake Claude (issue 18 item 2): the
 * server's defaults and a call's own limits make the session's, a bad limit is refused naming it,
 * the wall-time limit ends a session budget_exceeded, and continuing it is refused until a
 * session_send raises the limit — the new worker counting on from the time already spent. The
 * real CLIs' usage limits are in test/realAgents/usageAndBudgets.test.ts.
 */
import fs from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect, leftovers, reapLeftovers, startServer, until } from '../helpers/server';

/** How long a session of the fake Claude may take to end on a loaded machine (its limit is far shorter). */
const END_MS = 15_000;

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer({ env: { DEFAULT_MAX_COST_USD: '0.5', DEFAULT_MAX_TURNS: '5', KILL_GRACE: '500', CHILD_ENV_IS_SANDBOX: '1' } });
  client = await connect(server);
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  await until(() => leftovers(server.dirs).length === 0, 5_000, 'no leftovers').catch(() => undefined);
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

const info = async (id: string) => (await call(client, 'session_list', { status: 'all' })).sessions.find((s: any) => s.sessionId === id);

test("a session's limits are the server's defaults with the call's own over them; a bad limit is refused naming it", async () => {
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'b', task: 'hello', limits: { maxTokens: 100, maxTurns: 2 } });
  expect(s.limits).toEqual({ maxCostUsd: 0.5, maxTokens: 100, maxTurns: 2, maxDurationMs: null });
  await until(async () => (await info(s.sessionId)).status === 'exited', END_MS, 'the session to end');
  expect(await info(s.sessionId)).toMatchObject({ endReason: 'exited', limits: { maxTokens: 100 } });

  expect(await callError(client, 'session_start', { agent: 'claude-code', cwd: 'b', task: 'x', limits: { maxTokens: 0 } })).toMatch(/limits\.maxTokens/);
  expect(await callError(client, 'session_start', { agent: 'claude-code', cwd: 'b', task: 'x', limits: { maxCostUsd: -1 } })).toMatch(/maxCostUsd must be more than 0/);
  expect(await callError(client, 'session_start', { agent: 'claude-code', cwd: 'b', task: 'x', limits: { maxUsd: 1 } })).toMatch(/maxUsd/);
  expect(await callError(client, 'session_start', { agent: 'claude-code', cwd: 'b', task: 'x', limits: { maxTurns: 1.5 } })).toMatch(/limits\.maxTurns/);
});

test('maxDurationMs ends a session budget_exceeded; continuing is refused until session_send raises it, and the time spent carries on', async () => {
  const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'b', task: 'slow 60000 never', limits: { maxDurationMs: 600 } });
  // A running session's limits are not changed by a message to it.
  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: 'more', limits: { maxDurationMs: 60_000 } })).toMatch(
    /limits can be changed only when continuing an ended session/,
  );
  await until(async () => ['killed', 'exited'].includes((await info(s.sessionId)).status), END_MS, 'the budget to end it');
  const ended = await info(s.sessionId);
  expect(ended).toMatchObject({ status: 'killed', endReason: 'budget_exceeded', completedSuccessfully: false });
  expect(ended.runMs).toBeGreaterThanOrEqual(600);
  const out = await call(client, 'session_output', { sessionId: s.sessionId });
  expect(out.lines).toContainEqual(expect.stringMatching(/^\[agentvisor\] budget exceeded: maxDurationMs 600 \(ran \d+\)$/));

  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: 'go on' })).toMatch(
    new RegExp(`session ${s.sessionId} has reached its budget: maxDurationMs 600 \\(ran \\d+\\)\\. To continue it, pass session_send a higher limits\\.maxDurationMs\\.`),
  );
  expect((await info(s.sessionId)).status).toBe('killed'); // the refusal changed nothing
  expect(await call(client, 'session_send', { sessionId: s.sessionId, message: 'go on', limits: { maxDurationMs: 60_000 } })).toMatchObject({ resumed: true });
  await until(async () => (await info(s.sessionId)).status === 'exited', END_MS, 'the continued session to end');
  const after = await info(s.sessionId);
  expect(after).toMatchObject({ endReason: 'exited', completedSuccessfully: true, limits: { maxDurationMs: 60_000, maxCostUsd: 0.5 } });
  expect(after.runMs).toBeGreaterThan(ended.runMs);
  expect((await call(client, 'session_output', { sessionId: s.sessionId })).lines).toContain('echo: go on');
});
