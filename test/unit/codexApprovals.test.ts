/** Codex's requests to its client: answered by the session mode, or (mode ask) relayed and held until decided. */
import type { WorkerSpec } from '../../src/shared/protocol';
import { commandMatchesPrefix } from '../../src/worker/approvals';
import { CodexApprovalRelay, describeCodexRequest, modeAnswerer, unwrapShell } from '../../src/worker/drivers/codexApprovals';
import type { DriverEvent } from '../../src/worker/drivers/driver';
import { RpcError } from '../../src/worker/drivers/jsonRpcLines';

const command = 'item/commandExecution/requestApproval';
const file = 'item/fileChange/requestApproval';
const permissions = 'item/permissions/requestApproval';
const asked = { permissions: { network: { enabled: true } } };

test('full accepts everything; edit accepts file changes only; plan declines', () => {
  const full = modeAnswerer('full');
  expect(full(command, {})).toEqual({ decision: 'accept' });
  expect(full(file, {})).toEqual({ decision: 'accept' });
  expect(full(permissions, asked)).toEqual({ permissions: asked.permissions, scope: 'turn' });
  expect(full('execCommandApproval', {})).toEqual({ decision: 'approved' });
  const edit = modeAnswerer('edit');
  expect(edit(command, {})).toEqual({ decision: 'decline' });
  expect(edit(file, {})).toEqual({ decision: 'accept' });
  expect(edit('applyPatchApproval', {})).toEqual({ decision: 'approved' });
  expect(edit(permissions, asked)).toEqual({ permissions: {}, scope: 'turn' });
  const plan = modeAnswerer('plan');
  expect(plan(command, {})).toEqual({ decision: 'decline' });
  expect(plan(file, {})).toEqual({ decision: 'decline' });
  expect(plan('applyPatchApproval', {})).toEqual({ decision: 'denied' });
});

test('a request that is not an approval is refused with method-not-found', () => {
  for (const method of ['item/tool/requestUserInput', 'mcpServer/elicitation/request', 'account/chatgptAuthTokens/refresh', '__proto__', 'toString']) {
    let err: unknown;
    try {
      modeAnswerer('full')(method, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: -32601 });
  }
});

function relay(mode: WorkerSpec['mode'] = 'ask') {
  const events: DriverEvent[] = [];
  const steered: string[] = [];
  const order: string[] = [];
  const r = new CodexApprovalRelay({ spec: { mode } as WorkerSpec, emit: (e) => events.push(e) }, async (text) => {
    steered.push(text);
    order.push('steer');
  });
  const pendingIds = () => events.flatMap((e) => (e.type === 'approvalPending' ? [e.approval.approvalId] : []));
  return { r, events, steered, order, pendingIds };
}

test('ask: a command request is held (pending event) and each decision is its wire answer', async () => {
  const { r, events, pendingIds } = relay();
  const a = r.request(command, { command: "/bin/bash -lc 'npm test'", itemId: 'i1' }, 7) as Promise<unknown>;
  const b = r.request(command, { command: 'ls' }, 8) as Promise<unknown>;
  const c = r.request(file, { itemId: 'i2' }, 9) as Promise<unknown>;
  const d = r.request(permissions, asked, 10) as Promise<unknown>;
  expect(events[0]).toEqual({
    type: 'approvalPending',
    approval: expect.objectContaining({ kind: 'command', summary: 'shell: npm test', command: 'npm test', tool: 'commandExecution', decisions: ['allow', 'allow_for_session', 'deny'] }),
  });
  const [ia, ib, ic, id] = pendingIds();
  expect(r.answer(ia, { decision: 'allow' })).toEqual({ ok: true });
  expect(r.answer(ib, { decision: 'allow_for_session' })).toEqual({ ok: true });
  expect(r.answer(ic, { decision: 'deny' })).toEqual({ ok: true });
  expect(r.answer(id, { decision: 'allow_for_session' })).toEqual({ ok: true });
  expect(await Promise.all([a, b, c, d])).toEqual([{ decision: 'accept' }, { decision: 'acceptForSession' }, { decision: 'decline' }, { permissions: asked.permissions, scope: 'session' }]);
  expect(r.answer(ia, { decision: 'allow' })).toEqual({ ok: false, error: 'Codex is not waiting for it' });
});

test('ask: a deny with a message is steered into the turn before the decline goes out', async () => {
  const { r, steered, order, pendingIds } = relay();
  const a = (r.request(command, { command: 'rm -rf build' }, 1) as Promise<unknown>).then((v) => (order.push('decline'), v));
  r.answer(pendingIds()[0], { decision: 'deny', message: 'keep the build' });
  expect(await a).toEqual({ decision: 'decline' });
  expect(steered).toEqual(['The user denied shell: rm -rf build: keep the build']);
  expect(order).toEqual(['steer', 'decline']);
});

test('ask: serverRequest/resolved for a held request withdraws it; other ids and non-approvals are left alone', () => {
  const { r, events, pendingIds } = relay();
  void r.request(command, { command: 'ls' }, 'req-1');
  r.notification('serverRequest/resolved', { threadId: 't', requestId: 'req-2' });
  expect(events.filter((e) => e.type === 'approvalResolved')).toEqual([]);
  r.notification('serverRequest/resolved', { threadId: 't', requestId: 'req-1' });
  expect(events.filter((e) => e.type === 'approvalResolved')).toEqual([{ type: 'approvalResolved', approvalId: pendingIds()[0] }]);
  expect(() => r.request('item/tool/requestUserInput', {}, 3)).toThrow(RpcError);
});

test('a file change names its files from the item Codex started; hostile or odd params still make a bounded request', () => {
  const files = new Map([
    ['i1', ['src/a.ts']],
    ['i2', ['a', 'b', 'c']],
  ]);
  expect(describeCodexRequest(file, { itemId: 'i1' }, files)).toMatchObject({ kind: 'file_change', summary: 'apply_patch src/a.ts', tool: 'fileChange' });
  expect(describeCodexRequest(file, { itemId: 'abs' }, new Map([['abs', ['/w/src/a.ts']]]), '/w')?.summary).toBe('apply_patch src/a.ts');
  expect(describeCodexRequest(file, { itemId: 'abs' }, new Map([['abs', ['/wx/a.ts']]]), '/w')?.summary).toBe('apply_patch /wx/a.ts');
  expect(describeCodexRequest(file, { itemId: 'i2', reason: 'need\nit' }, files)?.summary).toBe('apply_patch: 3 files (need\\nit)');
  expect(describeCodexRequest(command, { command: 42 }, files)).toMatchObject({ summary: 'shell: ?' });
  expect(describeCodexRequest(command, null, files)).toMatchObject({ kind: 'command' });
  const huge = describeCodexRequest(command, { command: 'x'.repeat(100_000) }, files)!;
  expect(huge.summary.length).toBeLessThanOrEqual(300);
  expect(JSON.stringify(huge.request).length).toBeLessThan(20_000);
  expect(describeCodexRequest('toString', {}, files)).toBeNull();
});

test("unwrapShell takes the command out of Codex's `bash -lc` only when nothing is quoted inside", () => {
  expect(unwrapShell("/bin/bash -lc 'npm test'")).toBe('npm test');
  expect(unwrapShell("/bin/bash -lc 'echo '\\''x'\\'''")).toBe("/bin/bash -lc 'echo '\\''x'\\'''");
  expect(unwrapShell('npm test')).toBe('npm test');
});

test("unwrapShell: Codex's shell-join leaves a one-word script unquoted (`/bin/bash -lc ls`); that is the command too, but only of characters needing no quoting", () => {
  expect(unwrapShell('/bin/bash -lc ls')).toBe('ls');
  expect(unwrapShell('/bin/bash -c ./build.sh')).toBe('./build.sh');
  expect(commandMatchesPrefix(unwrapShell('/bin/bash -lc ls'), 'ls')).toBe(true);
  // Anything a shell would read differently, or a second word, or an option, stays wrapped (then asked).
  for (const c of ['/bin/bash -lc ls;id', '/bin/bash -lc $(id)', '/bin/bash -lc ls x', '/bin/bash -lc -x', '/bin/bash -lc *', '/bin/bash -lc ~/x']) expect(unwrapShell(c)).toBe(c);
});

test('modes other than ask answer at once and say so in a line', () => {
  const { r, events } = relay('full');
  expect(r.request(command, {}, 1)).toEqual({ decision: 'accept' });
  expect(events).toEqual([{ type: 'line', text: `[approval] ${command} → accept (mode full)` }]);
});
