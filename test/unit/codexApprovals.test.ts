/** Until issue 15 relays them, Codex's requests to its client are answered by the session mode. */
import { modeAnswerer } from '../../src/worker/drivers/codexApprovals';
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
