/**
 * `agentvisor approvals` and `approve` at their edges, against a real server with the fake
 * agents (the real-agent flow, listed and answered after a supervisor restart, is in
 * test/realAgents/approvalsRelay.test.ts): nothing pending, a decision word it does not know,
 * an unknown session prefix, an unknown approval id, and no server at all.
 */
import fs from 'node:fs';
import { type RunningServer, TEST_TOKEN, call, connect, startServer } from '../helpers/server';
import { cliEnv, runCli } from './cli';

let server: RunningServer;

beforeEach(async () => {
  server = await startServer();
});

afterEach(async () => {
  await server?.stop();
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, cliEnv(server.dirs, { AUTH_TOKEN: TEST_TOKEN }), server.dirs.base);

test('nothing pending; a bad decision word is a usage error; unknown sessions and approvals are named', async () => {
  expect(await cli(['approvals'])).toMatchObject({ code: 0, stdout: 'no pending approvals\n' });
  expect(JSON.parse((await cli(['approvals', '--json'])).stdout)).toEqual([]);
  const bad = await cli(['approve', 'abc', 'ap_1', 'maybe']);
  expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('the decision must be allow, allow-session or deny, not "maybe"') });
  const client = await connect(server);
  const s = (await call(client, 'session_start', { agent: 'codex', cwd: 'a', task: 'lines 3' })).sessionId;
  await client.close();
  const unknown = await cli(['approve', s.slice(0, 8), 'ap_nope', 'deny', '--message', 'no']);
  expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('unknown approvalId "ap_nope"') });
  const noSession = await cli(['approve', 'ffffffff', 'ap_1', 'allow']);
  expect(noSession.code).toBe(1);
  expect(noSession.stderr).toMatch(/ffffffff/);
});

test('without a running server both say so', async () => {
  await server.stop();
  const list = await cli(['approvals']);
  expect(list.code).toBe(1);
  expect(list.stderr).toMatch(/^agentvisor: approvals: the server is not running .*start it with: agentvisor serve/);
  const answer = await cli(['approve', 'ffffffff', 'ap_1', 'allow']);
  expect(answer.code).toBe(1);
  expect(answer.stderr).toMatch(/^agentvisor: approve: /);
});
