/**
 * Mode ask end to end (issue 15), the supervisor's side: the REAL claude and codex against
 * the scripted model, through a real supervisor and its workers, driven by real SDK clients
 * over HTTP and by the operator CLI. The worker's own cases (rules, allow_for_session, the
 * timeout) are in approvalsWorker*.test.ts; here: what a client sees and does — session_wait
 * returning the request, session_approve from two clients, elicitation to a client that
 * declared it (and never to one that did not), a supervisor SIGKILL while one is pending.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { call, connect, startServer } from '../helpers/server';
import { shellCall, toolResults } from '../support/modelServer';
import { closeRigs, journalEvents, journalRow, realAgentServerEnv, saveTranscript, startRealRig, waitEnded } from '../support/agentEnv';
import { withJournal } from '../restart/support';
import { cliEnv, runCli } from '../cli/cli';

jest.setTimeout(180_000);
afterEach(closeRigs);

type Call = (tool: string, args: Record<string, unknown>) => Promise<any>;

/** session_wait until it reports a pending request; returns the reply. `via`: a client, or a rig's recorded call. */
async function pendingOf(via: Client | Call, sessionId: string): Promise<any> {
  const wait: Call = typeof via === 'function' ? via : (tool, args) => call(via, tool, args);
  for (;;) {
    const page = await wait('session_wait', { sessionId, timeoutMs: 30_000 });
    if (page.pendingApprovals?.length) return page;
    if (!['running', 'awaiting_approval'].includes(page.status)) throw new Error(`session ended (${page.status}) without asking`);
  }
}

test.each([
  ['claude-code', 'anthropic', {}],
  ['codex', 'openai', { CODEX_PROTOCOL: 'auto' }],
] as const)('%s: session_wait returns the pending request; one client allows it, it runs; the other is told it was already decided', async (agent, api, env) => {
  const rig = await startRealRig([{ toolCalls: [shellCall(api, 'touch allowed.txt')] }, { text: 'ran it' }], { env });
  const s = await rig.call('session_start', { agent, cwd: 'w', task: 'make the file', mode: 'ask' });
  const page = await pendingOf(rig.client, s.sessionId);
  expect(page.status).toBe('awaiting_approval');
  const [p] = page.pendingApprovals;
  expect(p).toMatchObject({ kind: 'command', summary: expect.stringContaining('touch allowed.txt'), decisions: expect.arrayContaining(['allow', 'deny']) });
  expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'allowed.txt'))).toBe(false);
  const listed = await rig.call('session_list', { status: 'awaiting_approval' });
  expect(listed.sessions.map((x: any) => x.sessionId)).toEqual([s.sessionId]);

  const other = await connect(rig.server, 'http', 'second-client');
  try {
    const first = await rig.call('session_approve', { sessionId: s.sessionId, approvalId: p.approvalId, decision: 'allow' });
    expect(first).toMatchObject({ alreadyDecided: false, approval: { state: 'decided', decision: 'allow', decidedBy: expect.stringMatching(/^connection:/) } });
    const second = await call(other, 'session_approve', { sessionId: s.sessionId, approvalId: p.approvalId, decision: 'deny', message: 'too late' });
    expect(second).toMatchObject({ alreadyDecided: true, approval: { decision: 'allow', decidedBy: first.approval.decidedBy } });
  } finally {
    await other.close();
  }
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'allowed.txt'))).toBe(true);
  expect(toolResults(rig.model.requests[1])).toHaveLength(1);
});

test('claude: deny with a message — nothing runs and the model sees the message; the journal keeps who decided', async () => {
  const rig = await startRealRig([{ toolCalls: [shellCall('anthropic', 'touch denied.txt')] }, { text: 'fine' }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'w', task: 'try it', mode: 'ask' });
  const [p] = (await pendingOf((tool, args) => rig.call(tool, args), s.sessionId)).pendingApprovals;
  await rig.call('session_approve', { sessionId: s.sessionId, approvalId: p.approvalId, decision: 'deny', message: 'use the scratch dir' });
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'denied.txt'))).toBe(false);
  expect(toolResults(rig.model.requests[1])).toEqual([{ text: expect.stringContaining('use the scratch dir'), isError: true }]);
  const again = await rig.call('session_approve', { sessionId: s.sessionId, approvalId: p.approvalId, decision: 'allow' });
  expect(again).toMatchObject({ alreadyDecided: true, approval: { decision: 'deny', message: 'use the scratch dir' } });
  saveTranscript('claude-ask-deny', rig);
});

test('claude: allow_for_session — the same command later is not asked again (the session rule of the worker answers it)', async () => {
  const cmd = 'touch twice.txt';
  const rig = await startRealRig([{ toolCalls: [shellCall('anthropic', cmd)] }, { toolCalls: [shellCall('anthropic', cmd)] }, { text: 'done twice' }]);
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'w', task: 'twice', mode: 'ask' });
  const [p] = (await pendingOf(rig.client, s.sessionId)).pendingApprovals;
  await rig.call('session_approve', { sessionId: s.sessionId, approvalId: p.approvalId, decision: 'allow_for_session' });
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  const outcomes = journalEvents(rig.dirs, s.sessionId)
    .filter((e) => e.kind === 'approval_resolved')
    .map((e) => JSON.parse(e.detail!));
  expect(outcomes).toEqual([
    expect.objectContaining({ approvalId: p.approvalId, decision: 'allow_for_session', decidedBy: expect.stringMatching(/^connection:/) }),
    expect.objectContaining({ decision: 'allow', decidedBy: 'rule', asked: false }),
  ]);
  expect(toolResults(rig.model.requests[2]).at(-1)).toMatchObject({ isError: false });
});

test('claude: an approve rule allows without asking (decided by rule), and APPROVAL_TIMEOUT denies what nobody answers', async () => {
  const rig = await startRealRig([{ toolCalls: [shellCall('anthropic', 'touch ruled.txt')] }, { toolCalls: [shellCall('anthropic', 'mkdir nobody-answers')] }, { text: 'ok' }], {
    env: { APPROVAL_TIMEOUT: '1500' },
  });
  const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'w', task: 'two things', mode: 'ask', approve: { allowCommandPrefixes: ['touch'] } });
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'ruled.txt'))).toBe(true);
  expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'nobody-answers'))).toBe(false);
  // The rule answered before anyone was asked: no approval row, but the session's history has the outcome.
  const rows = withJournal(rig.dirs, (db) => db.prepare('SELECT summary, decision, decided_by, state FROM approvals WHERE session_id = ? ORDER BY created_at').all(s.sessionId));
  expect(rows).toEqual([{ summary: 'Bash: mkdir nobody-answers', decision: 'deny', decided_by: 'timeout', state: 'decided' }]);
  const outcomes = journalEvents(rig.dirs, s.sessionId)
    .filter((e) => e.kind === 'approval_resolved')
    .map((e) => JSON.parse(e.detail!));
  expect(outcomes).toEqual([expect.objectContaining({ decision: 'allow', decidedBy: 'rule', asked: false }), expect.objectContaining({ decision: 'deny', decidedBy: 'timeout' })]);
});

test('claude: a client that declared elicitation is asked while it waits and its answer applied; a client that did not is never sent one', async () => {
  const rig = await startRealRig([{ toolCalls: [shellCall('anthropic', 'touch elicited.txt')] }, { text: 'done' }]);
  const asked: string[] = [];
  const eliciting = await connect(rig.server, 'http', 'eliciting-client', { capabilities: { elicitation: {} } });
  eliciting.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return { action: 'accept', content: { decision: 'allow', message: '' } };
  });
  try {
    const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'w', task: 'make it', mode: 'ask' });
    // The plain client (rig.client, no capability) sees the request in its wait, and nothing else.
    expect((await pendingOf(rig.client, s.sessionId)).status).toBe('awaiting_approval');
    const page = await call(eliciting, 'session_wait', { sessionId: s.sessionId, timeoutMs: 30_000 });
    expect(asked).toEqual([expect.stringContaining('Bash: touch elicited.txt')]);
    expect(page.approvalsAnswered).toEqual([expect.objectContaining({ decision: 'allow', decidedBy: expect.stringMatching(/^connection:/) })]);
    expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
    expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'elicited.txt'))).toBe(true);
  } finally {
    await eliciting.close();
  }
});

test.each([
  ['claude-code', 'anthropic', {}],
  ['codex', 'openai', { CODEX_PROTOCOL: 'auto' }],
] as const)('%s: supervisor SIGKILL while a request is pending — after restart it is still pending, the CLI lists and answers it, and the agent continues', async (agent, api, agentEnv) => {
  const rig = await startRealRig([{ toolCalls: [shellCall(api, 'touch survived.txt')] }, { text: 'after the restart' }], { env: agentEnv });
  const s = await rig.call('session_start', { agent, cwd: 'w', task: 'survive', mode: 'ask' });
  const [p] = (await pendingOf(rig.client, s.sessionId)).pendingApprovals;
  await rig.server.kill();
  const base = rig.dirs.base;
  const env = {
    ...realAgentServerEnv({ modelUrl: rig.model.url, home: path.join(base, 'home'), codexHome: path.join(base, 'codex-home'), tmpDir: path.join(base, 'tmp') }),
    KILL_GRACE: '2000',
    ...agentEnv,
  };
  const second = await startServer({ dirs: rig.dirs, env });
  const client = await connect(second);
  try {
    const info = (await call(client, 'session_list', { status: 'awaiting_approval' })).sessions[0];
    expect(info).toMatchObject({ sessionId: s.sessionId, status: 'awaiting_approval', pendingApprovals: [expect.objectContaining({ approvalId: p.approvalId })] });
    const cli = cliEnv(rig.dirs, { AUTH_TOKEN: second.token, PORT: String(new URL(second.url).port) });
    const listed = await runCli(['approvals', '--json'], cli, base);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ sessionId: s.sessionId, approvalId: p.approvalId, summary: expect.stringContaining('touch survived.txt') })]);
    const approved = await runCli(['approve', s.sessionId.slice(0, 8), p.approvalId, 'allow'], cli, base);
    expect(approved).toMatchObject({ code: 0, stdout: `${s.sessionId.slice(0, 8)} ${p.approvalId}: allow by cli\n` });
    expect(await waitEnded(client, s.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
    expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'survived.txt'))).toBe(true);
    expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({ status: 'exited' });
    const none = await runCli(['approvals'], cli, base);
    expect(none).toMatchObject({ code: 0, stdout: 'no pending approvals\n' });
  } finally {
    await client.close();
    await second.stop();
  }
});

test('codex: a worker killed while a request is pending leaves the session lost and the request lost; answering it says so', async () => {
  const rig = await startRealRig([{ toolCalls: [shellCall('openai', 'touch never.txt')] }, { text: 'unreached' }], { env: { CODEX_PROTOCOL: 'auto' } });
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'w', task: 'try it', mode: 'ask' });
  const [p] = (await pendingOf(rig.client, s.sessionId)).pendingApprovals;
  const workerPid = journalRow(rig.dirs, s.sessionId)?.worker_pid as number;
  process.kill(workerPid, 'SIGKILL');
  expect(await waitEnded(rig.client, s.sessionId)).toMatchObject({ status: 'lost' });
  const info = (await rig.call('session_list', { status: 'lost' })).sessions[0];
  expect(info.pendingApprovals).toBeUndefined();
  const answer = await rig.call('session_approve', { sessionId: s.sessionId, approvalId: p.approvalId, decision: 'allow' });
  expect(answer).toMatchObject({ alreadyDecided: true, approval: { state: 'lost', decision: null, message: expect.stringContaining('worker died') } });
  expect(fs.existsSync(path.join(rig.dirs.workspace, 'w', 'never.txt'))).toBe(false);
});
