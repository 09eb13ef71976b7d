/**
 * Mode ask on the supervisor's side, in-process (issue 15): the session core
 * against FakeWorker (the real IPC protocol, the real WorkerClient and journal).
 * What is checked: journalled before told, awaiting_approval and its list,
 * session_wait answered at once, idempotent answers, and what becomes of a
 * request whose worker died, whose agent ended, or that was decided while no
 * supervisor was connected.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Journal } from '../../src/supervisor/journal';
import type { SessionManager } from '../../src/supervisor/sessionManager';
import { disposeCore, makeCore } from './support/coreRig';
import type { FakeWorker } from './support/fakeWorker';

let dir: string;
let journal: Journal;
let workers: FakeWorker[];
let core: SessionManager;

function build(): void {
  ({ journal, core } = makeCore(dir, workers, ['hello']));
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-approvals-'));
  fs.mkdirSync(path.join(dir, 'ws'));
  workers = [];
  build();
});

afterEach(() => disposeCore(core, workers, journal, dir));

const start = async () => (await core.start({ agent: 'claude-code', cwd: path.join(dir, 'ws'), task: 'do it', mode: 'ask' })).info.sessionId;

/** Resolves with the next approval event, after checking what the journal held when it was emitted. */
function nextApprovalEvent(): Promise<{ detail: Record<string, unknown>; journalled: string | undefined }> {
  return new Promise((resolve) => {
    core.once('approval', (id, detail) => resolve({ detail, journalled: core.listApprovals({ sessionId: id }).find((a) => a.approvalId === detail.approvalId)?.state }));
  });
}

test('a pending request is journalled before anyone is told; the session shows awaiting_approval with the list, then running again', async () => {
  const id = await start();
  const told = nextApprovalEvent();
  workers[0].ask('ap-1');
  const { detail, journalled } = await told;
  expect(detail).toMatchObject({ event: 'approval_pending', approvalId: 'ap-1', summary: 'Bash: npm test' });
  expect(journalled).toBe('pending');
  const info = core.info(id);
  expect(info.status).toBe('awaiting_approval');
  expect(info.pendingApprovals).toEqual([expect.objectContaining({ approvalId: 'ap-1', kind: 'command', decisions: ['allow', 'allow_for_session', 'deny'], request: { command: 'npm test' } })]);
  expect(core.list({ status: 'awaiting_approval' }).sessions.map((s) => s.sessionId)).toEqual([id]);
  expect(core.list({ status: 'running' }).sessions).toEqual([]);
  expect(core.list().counts).toMatchObject({ awaiting_approval: 1, running: 0 });
  expect(await core.read(id, 0, 10, 10_000)).toMatchObject({ status: 'awaiting_approval', pendingApprovals: [expect.objectContaining({ approvalId: 'ap-1' })] });

  const reply = await core.approve(id, 'ap-1', 'allow', null, 'cli');
  expect(reply).toMatchObject({ alreadyDecided: false, approval: { state: 'decided', decision: 'allow', decidedBy: 'cli' } });
  expect(core.info(id).status).toBe('running');
  expect(core.info(id).pendingApprovals).toBeUndefined();
  expect(core.list({ status: 'running' }).sessions.map((s) => s.sessionId)).toEqual([id]);
});

test('session_wait returns at once while a request is pending, with the list; a wait in flight is woken by it', async () => {
  const id = await start();
  const waiting = core.wait(id, 1, 30_000, 10, 10_000);
  workers[0].ask('ap-1');
  const page = await waiting;
  expect(page).toMatchObject({ timedOut: false, status: 'awaiting_approval', pendingApprovals: [expect.objectContaining({ approvalId: 'ap-1' })] });
  const again = await core.wait(id, 1, 30_000, 10, 10_000);
  expect(again).toMatchObject({ timedOut: false, pendingApprovals: [expect.objectContaining({ approvalId: 'ap-1' })] });
  expect(await core.waitEnded(id, 30_000, undefined, true)).toBe(true);
});

test('answers are idempotent: a second one says who decided and how; an unknown id is a clear error', async () => {
  const id = await start();
  const told = nextApprovalEvent();
  workers[0].ask('ap-1');
  await told;
  await core.approve(id, 'ap-1', 'deny', 'not that', 'connection:A');
  const second = await core.approve(id, 'ap-1', 'allow', null, 'connection:B');
  expect(second).toMatchObject({ alreadyDecided: true, approval: { decision: 'deny', message: 'not that', decidedBy: 'connection:A' } });
  await expect(core.approve(id, 'nope', 'allow', null, 'cli')).rejects.toThrow(/unknown approvalId "nope"/);
  await expect(core.approve('00000000-0000-4000-8000-000000000000', 'ap-1', 'allow', null, 'cli')).rejects.toThrow(/unknown sessionId/);
});

test('a request the worker decided on its own (its timeout) is journalled with who decided', async () => {
  const id = await start();
  const pending = nextApprovalEvent();
  workers[0].ask('ap-1');
  await pending;
  const resolved = nextApprovalEvent();
  workers[0].resolve('ap-1', 'deny', 'timeout', 'no decision within 900000 ms');
  expect((await resolved).journalled).toBe('decided');
  expect(core.listApprovals({ sessionId: id })[0]).toMatchObject({ decision: 'deny', decidedBy: 'timeout', state: 'decided' });
  expect(core.info(id).status).toBe('running');
  const asked = nextApprovalEvent();
  workers[0].ask('ap-2');
  await asked;
  const withdrawn = nextApprovalEvent();
  workers[0].resolve('ap-2', 'withdrawn', 'agent');
  expect((await withdrawn).journalled).toBe('withdrawn');
  expect(core.listApprovals({ sessionId: id })[1]).toMatchObject({ approvalId: 'ap-2', state: 'withdrawn', decidedBy: 'agent' });
});

test('a worker that dies leaves its pending requests lost; an agent that ends leaves them withdrawn', async () => {
  const a = await start();
  const b = await start();
  const told = [nextApprovalEvent()];
  workers[0].ask('ap-a');
  await told[0];
  told.push(nextApprovalEvent());
  workers[1].ask('ap-b');
  await told[1];
  const lost = core.waitEnded(a, 30_000);
  await workers[0].dispose();
  expect(await lost).toBe(true);
  expect(core.listApprovals({ sessionId: a })[0]).toMatchObject({ state: 'lost' });
  expect(core.info(a).pendingApprovals).toBeUndefined();
  workers[1].end();
  expect(await core.waitEnded(b, 30_000)).toBe(true);
  expect(core.listApprovals({ sessionId: b })[0]).toMatchObject({ state: 'withdrawn', decidedBy: 'agent' });
  expect(core.listApprovals({ pendingOnly: true })).toEqual([]);
  await expect(core.approve(b, 'ap-b', 'allow', null, 'cli')).resolves.toMatchObject({ alreadyDecided: true, approval: { state: 'withdrawn' } });
});

test("a new supervisor re-learns pending requests from the worker's hello, answers them, and ends those the worker no longer holds", async () => {
  const id = await start();
  const told = [nextApprovalEvent()];
  workers[0].ask('ap-1');
  await told[0];
  told.push(nextApprovalEvent());
  workers[0].ask('ap-2');
  await told[1];
  await core.close({ killSessions: false });
  journal.close();
  // While no supervisor listened: ap-2 timed out (the event went nowhere) and ap-3 was asked.
  workers[0].resolve('ap-2', 'deny', 'timeout');
  workers[0].ask('ap-3');
  build();
  expect(await core.reattachAll()).toEqual({ reattached: 1, lost: 0, ended: 0 });
  expect(core.info(id).status).toBe('awaiting_approval');
  expect(core.info(id).pendingApprovals?.map((a) => a.approvalId)).toEqual(['ap-1', 'ap-3']);
  expect(core.listApprovals({ sessionId: id }).find((a) => a.approvalId === 'ap-2')?.state).toBe('lost');
  await core.approve(id, 'ap-1', 'allow', null, 'cli');
  await core.approve(id, 'ap-3', 'allow_for_session', null, 'cli');
  expect(core.info(id).status).toBe('running');
});

test('what an agent asks is journalled bounded: a huge request keeps a preview, a long summary is cut', async () => {
  const id = await start();
  const told = nextApprovalEvent();
  workers[0].ask('ap-big', 'x'.repeat(10_000), { command: 'y'.repeat(200_000) });
  await told;
  const [a] = core.listApprovals({ sessionId: id });
  expect(a.summary).toHaveLength(500);
  expect(a.request).toMatchObject({ truncated: true, chars: expect.any(Number) });
  expect(JSON.stringify(a.request).length).toBeLessThanOrEqual(16_384);
  expect(core.info(id).pendingApprovals?.[0].request).toMatchObject({ truncated: true });
});
