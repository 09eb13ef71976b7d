/**
 * Issue 15, the worker's side, with the REAL codex over app-server against the scripted model:
 * approval policy `untrusted` makes Codex ask before a command; the worker holds the request and
 * the `approve` frame decides it (accept, acceptForSession, decline with the message steered into
 * the turn).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type RecordedRequest, shellCall, toolResults } from '../support/modelServer';
import { WorkerRig, type WorkerRigOptions } from '../support/workerRig';

jest.setTimeout(120_000);

const rigs: WorkerRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function start(script: WorkerRigOptions['script'], approvals?: WorkerRigOptions['approvals'], files?: WorkerRigOptions['files']): Promise<WorkerRig> {
  const r = await WorkerRig.start({ agent: 'codex', script, approvals, files });
  rigs.push(r);
  return r;
}

/** The user messages of a Responses request, without Codex's own context messages. */
function userSaid(rec: RecordedRequest): string[] {
  const input: any[] = rec.body.input;
  return input
    .filter((i) => i.type === 'message' && i.role === 'user')
    .map((i) => i.content.map((c: any) => c.text).join(''))
    .filter((t: string) => !t.startsWith('<'));
}

test('codex: a command waits for a decision; allow runs it and the model gets its output; hello carries the pending one', async () => {
  const r = await start([{ toolCalls: [shellCall('openai', 'touch allowed.txt')] }, { text: 'ran it' }]);
  const p = await r.pending();
  expect(p).toMatchObject({ kind: 'command', summary: expect.stringContaining('touch allowed.txt'), decisions: ['allow', 'allow_for_session', 'deny'] });
  expect(fs.existsSync(path.join(r.spec.cwd, 'allowed.txt'))).toBe(false);
  await r.reconnect();
  expect(r.hello.pendingApprovals).toEqual([p]);
  expect(await r.approve(p.approvalId, 'allow')).toMatchObject({ alreadyDecided: false, outcome: { decision: 'allow' } });
  expect(await r.ended()).toMatchObject({ status: 'exited', completedSuccessfully: true, pendingApprovals: [] });
  expect(fs.existsSync(path.join(r.spec.cwd, 'allowed.txt'))).toBe(true);
  expect(toolResults(r.model.requests[1])).toHaveLength(1);
  expect(await r.lines()).toContain(`[approval] pending ${p.approvalId}: ${p.summary}`);
});

test('codex: deny with a message: nothing runs, and the model sees the message (steered into the turn) beside the declined call', async () => {
  const r = await start([{ toolCalls: [shellCall('openai', 'touch denied.txt')] }, { text: 'understood' }]);
  const p = await r.pending();
  await r.approve(p.approvalId, 'deny', 'use the scratch dir instead');
  expect(await r.ended()).toMatchObject({ status: 'exited' });
  expect(fs.existsSync(path.join(r.spec.cwd, 'denied.txt'))).toBe(false);
  const next = r.model.requests[1];
  expect(userSaid(next)).toContain(`The user denied ${p.summary}: use the scratch dir instead`);
  expect(toolResults(next)).toHaveLength(1);
});

test('codex: allow_for_session is acceptForSession: the same command later is not asked again', async () => {
  const cmd = 'touch again.txt';
  const r = await start([{ toolCalls: [shellCall('openai', cmd)] }, { toolCalls: [shellCall('openai', cmd)] }, { text: 'twice' }]);
  const p = await r.pending();
  await r.approve(p.approvalId, 'allow_for_session');
  expect(await r.ended()).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(r.model.requests).toHaveLength(3);
  expect(r.approvalsPending()).toBe(1);
});

test("codex: an allowCommandPrefixes rule matches the command inside Codex's `bash -lc` wrapper and answers without asking", async () => {
  const r = await start([{ toolCalls: [shellCall('openai', 'touch ruled.txt')] }, { text: 'ok' }], { allowCommandPrefixes: ['touch'] });
  expect(await r.ended()).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(fs.existsSync(path.join(r.spec.cwd, 'ruled.txt'))).toBe(true);
  expect(r.approvalsPending()).toBe(0);
  expect(r.events.flatMap((e) => ('outcome' in e ? [e.outcome] : []))).toEqual([expect.objectContaining({ decision: 'allow', decidedBy: 'rule' })]);
  expect(await r.lines()).toContainEqual(expect.stringMatching(/^\[approval\] ap_\w+ allowed by rule allowCommandPrefixes touch: shell: touch ruled\.txt$/));
});

test("codex: a one-word command, which Codex's shell-join leaves unquoted (`/bin/bash -lc make`), is matched by an allowCommandPrefixes rule too", async () => {
  const r = await start([{ toolCalls: [shellCall('openai', 'make')] }, { text: 'ok' }], { allowCommandPrefixes: ['make'] }, { Makefile: 'all:\n\ttouch made.txt\n' });
  expect(await r.ended()).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(fs.existsSync(path.join(r.spec.cwd, 'made.txt'))).toBe(true);
  expect(r.events.flatMap((e) => ('outcome' in e ? [e.outcome] : []))).toEqual([expect.objectContaining({ decision: 'allow', decidedBy: 'rule' })]);
});

test('codex: interrupting the turn while a request waits withdraws it; nothing ran and the state holds none', async () => {
  const r = await start([{ toolCalls: [shellCall('openai', 'touch never.txt')] }, { text: 'stopped' }]);
  const p = await r.pending();
  await r.client.request('interrupt', {});
  expect(await r.outcome(p.approvalId)).toMatchObject({ decision: 'withdrawn', decidedBy: 'agent' });
  expect((await r.ended()).pendingApprovals).toEqual([]);
  expect(fs.existsSync(path.join(r.spec.cwd, 'never.txt'))).toBe(false);
});

test('codex: a patch is asked about as a file change naming its file (relative to the cwd); allow writes it', async () => {
  const patch = '*** Begin Patch\n*** Add File: patched.txt\n+hello\n*** End Patch\n';
  const r = await start([{ toolCalls: [{ name: 'apply_patch', input: patch }] }, { text: 'written' }]);
  const p = await r.pending();
  expect(p).toMatchObject({ kind: 'file_change', summary: 'apply_patch patched.txt', request: { method: 'item/fileChange/requestApproval' } });
  expect(fs.existsSync(path.join(r.spec.cwd, 'patched.txt'))).toBe(false);
  await r.approve(p.approvalId, 'allow');
  expect(await r.ended()).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(fs.readFileSync(path.join(r.spec.cwd, 'patched.txt'), 'utf8')).toBe('hello\n');
});
