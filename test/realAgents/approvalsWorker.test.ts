/**
 * Issue 15, the worker's side, with the REAL claude against the scripted model: a real worker
 * holds the agent's permission request, and what is decided over its socket (the `approve` frame,
 * as the supervisor sends it) is what the agent does. Mode ask needs no IS_SANDBOX as root (the
 * rig leaves it out; these tests run as root).
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkerRequestError } from '../../src/supervisor/workerClient';
import { shellCall, toolResults } from '../support/modelServer';
import { WorkerRig, type WorkerRigOptions } from '../support/workerRig';

jest.setTimeout(120_000);

const rigs: WorkerRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function start(o: Omit<WorkerRigOptions, 'agent'>): Promise<WorkerRig> {
  const r = await WorkerRig.start({ agent: 'claude-code', ...o });
  rigs.push(r);
  return r;
}

test('claude: a command waits for a decision (event, hello state, output line); allow runs it and the model gets its result; a repeat answers alreadyDecided; an unknown id errors', async () => {
  const r = await start({ script: [{ toolCalls: [shellCall('anthropic', 'touch allowed.txt')] }, { text: 'ran it' }] });
  const p = await r.pending();
  expect(p).toMatchObject({
    kind: 'command',
    summary: 'Bash: touch allowed.txt',
    decisions: ['allow', 'allow_for_session', 'deny'],
    request: { toolName: 'Bash', input: { command: 'touch allowed.txt' } },
  });
  // The agent waits: nothing ran, and a supervisor connecting now learns of it from hello.
  expect(fs.existsSync(path.join(r.spec.cwd, 'allowed.txt'))).toBe(false);
  await r.reconnect();
  expect(r.hello.pendingApprovals).toEqual([p]);
  expect(r.hello.status).toBe('running');

  const answer = await r.approve(p.approvalId, 'allow', undefined, 'connection:one');
  expect(answer).toMatchObject({ alreadyDecided: false, outcome: { approvalId: p.approvalId, decision: 'allow', decidedBy: 'connection:one', message: null } });
  const end = await r.ended();
  expect(end).toMatchObject({ status: 'exited', completedSuccessfully: true, pendingApprovals: [] });
  expect(fs.existsSync(path.join(r.spec.cwd, 'allowed.txt'))).toBe(true);
  expect(toolResults(r.model.requests[1])).toEqual([{ text: expect.any(String), isError: false }]);

  expect(await r.approve(p.approvalId, 'deny', 'changed my mind', 'cli')).toEqual({ outcome: answer.outcome, alreadyDecided: true });
  const err = await r.approve('ap_0000000000000000', 'allow').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkerRequestError);
  expect(err).toMatchObject({ code: 'bad_request', message: 'no approval ap_0000000000000000 in this session' });
  const lines = await r.lines();
  expect(lines).toContain(`[approval] pending ${p.approvalId}: Bash: touch allowed.txt`);
  expect(lines).toContain(`[approval] ${p.approvalId} allowed by connection:one: Bash: touch allowed.txt`);
});

test('claude: deny with a message: nothing runs, and the model sees the denial with the message', async () => {
  const r = await start({ script: [{ toolCalls: [shellCall('anthropic', 'touch denied.txt')] }, { text: 'fine' }] });
  const p = await r.pending();
  await r.approve(p.approvalId, 'deny', 'not in this repo, use the scratch dir');
  expect(await r.ended()).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(r.spec.cwd, 'denied.txt'))).toBe(false);
  expect(toolResults(r.model.requests[1])).toEqual([{ text: 'not in this repo, use the scratch dir', isError: true }]);
});

test('claude: allow_for_session: the same command later is not asked again (allowed by rule), and a different one still is', async () => {
  const cmd = 'touch again.txt';
  const r = await start({
    script: [{ toolCalls: [shellCall('anthropic', cmd)] }, { toolCalls: [shellCall('anthropic', cmd)] }, { toolCalls: [shellCall('anthropic', 'touch other.txt')] }, { text: 'done twice' }],
  });
  const first = await r.pending(0);
  await r.approve(first.approvalId, 'allow_for_session');
  const other = await r.pending(1);
  expect(other.summary).toBe('Bash: touch other.txt');
  await r.approve(other.approvalId, 'deny');
  expect(await r.ended()).toMatchObject({ status: 'exited' });
  // Three requests, two asked: the second `touch again.txt` was the worker's rule's.
  const outcomes = r.events.flatMap((e) => ('outcome' in e ? [[e.outcome.decision, e.outcome.decidedBy]] : []));
  expect(outcomes).toEqual([
    ['allow_for_session', 'connection:test'],
    ['allow', 'rule'],
    ['deny', 'connection:test'],
  ]);
  expect(toolResults(r.model.requests[2]).at(-1)).toMatchObject({ isError: false });
});

test('claude: an allowCommandPrefixes rule answers without asking; the timeout denies what nobody answers, with a message the model sees', async () => {
  const r = await start({
    approvals: { allowCommandPrefixes: ['touch'], timeoutMs: 1_500 },
    script: [{ toolCalls: [shellCall('anthropic', 'touch ruled.txt')] }, { toolCalls: [shellCall('anthropic', 'mkdir nobody-answers')] }, { text: 'ok' }],
  });
  const p = await r.pending(0);
  expect(p.summary).toBe('Bash: mkdir nobody-answers');
  const outcome = await r.outcome(p.approvalId);
  expect(outcome).toMatchObject({ decision: 'deny', decidedBy: 'timeout', message: expect.stringContaining('No decision within 2 s') });
  expect(await r.ended()).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(r.spec.cwd, 'ruled.txt'))).toBe(true);
  expect(fs.existsSync(path.join(r.spec.cwd, 'nobody-answers'))).toBe(false);
  expect(r.approvalsPending()).toBe(1);
  expect(toolResults(r.model.requests[2]).at(-1)).toEqual({ text: expect.stringContaining('APPROVAL_TIMEOUT'), isError: true });
});

test('claude: the idle timer does not end a session whose agent waits for a decision', async () => {
  const IDLE_MS = 4_000;
  const r = await start({ idleTimeoutMs: IDLE_MS, script: [{ toolCalls: [shellCall('anthropic', 'touch late.txt')] }, { text: 'after a long wait' }] });
  const p = await r.pending();
  // Several idle periods pass with the agent silent (it waits on us); the worker says when it was last active.
  await new Promise((res) => setTimeout(res, IDLE_MS * 3));
  expect(await r.client.request('state', {})).toMatchObject({ status: 'running', pendingApprovals: [expect.objectContaining({ approvalId: p.approvalId })] });
  await r.approve(p.approvalId, 'allow');
  expect(await r.ended()).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(fs.existsSync(path.join(r.spec.cwd, 'late.txt'))).toBe(true);
});

test('claude: interrupting the turn while a request waits withdraws it (decidedBy agent); nothing ran and the state holds none', async () => {
  const r = await start({ script: [{ toolCalls: [shellCall('anthropic', 'touch never.txt')] }, { text: 'stopped' }] });
  const p = await r.pending();
  await r.client.request('interrupt', {});
  expect(await r.outcome(p.approvalId)).toMatchObject({ decision: 'withdrawn', decidedBy: 'agent' });
  const end = await r.ended();
  expect(end.pendingApprovals).toEqual([]);
  expect(fs.existsSync(path.join(r.spec.cwd, 'never.txt'))).toBe(false);
  expect(await r.approve(p.approvalId, 'allow')).toMatchObject({ alreadyDecided: true, outcome: { decision: 'withdrawn' } });
});

test("claude: settings that allow Bash (a checked-out repo's .claude/settings.json and settings.local.json, the user's ~/.claude/settings.json) do not bypass the relay; the request still waits for a decision", async () => {
  const allowBash = JSON.stringify({ permissions: { allow: ['Bash'] } });
  const r = await start({
    files: { '.claude/settings.json': allowBash, '.claude/settings.local.json': allowBash },
    homeFiles: { '.claude/settings.json': allowBash },
    script: [{ toolCalls: [shellCall('anthropic', 'touch bypass.txt')] }, { text: 'done' }],
  });
  const p = await r.pending();
  expect(p.summary).toBe('Bash: touch bypass.txt');
  expect(fs.existsSync(path.join(r.spec.cwd, 'bypass.txt'))).toBe(false);
  await r.approve(p.approvalId, 'deny');
  expect(await r.ended()).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(r.spec.cwd, 'bypass.txt'))).toBe(false);
});
