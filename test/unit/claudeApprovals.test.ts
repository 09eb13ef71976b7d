/** Claude's control messages in mode ask: what a permission request becomes, and the answers written back. */
import { claudeControlError, claudePermissionResponse, parseClaudeControl } from '../../src/worker/drivers/claudeApprovals';
import { MAX_REQUEST_CHARS } from '../../src/worker/drivers/shared';

const req = (request: Record<string, unknown>, requestId = 'r1') => JSON.stringify({ type: 'control_request', request_id: requestId, request });

test('can_use_tool → kind, one-line summary, tool, command and the scope Claude suggests', () => {
  const bash = parseClaudeControl(
    req({ subtype: 'can_use_tool', tool_name: 'Bash', input: { command: 'npm test -- a' }, permission_suggestions: [{ type: 'addRules', rules: [{ toolName: 'Bash', ruleContent: 'npm test:*' }] }] }),
  );
  expect(bash).toMatchObject({
    type: 'canUseTool',
    requestId: 'r1',
    approval: { kind: 'command', summary: 'Bash: npm test -- a', tool: 'Bash', command: 'npm test -- a', sessionScope: { tool: 'Bash', commandPrefix: 'npm test' } },
  });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Write', input: { file_path: 'src/a.ts', content: 'x' } }))).toMatchObject({
    approval: { kind: 'file_change', summary: 'Write src/a.ts', sessionScope: { tool: 'Write', commandPrefix: null } },
  });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Edit', input: { file_path: '/w/src/a.ts' } }), '/w')).toMatchObject({ approval: { summary: 'Edit src/a.ts' } });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Edit', input: { file_path: '/etc/passwd' } }), '/w')).toMatchObject({ approval: { summary: 'Edit /etc/passwd' } });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'WebFetch', input: { url: 'u' }, description: 'fetch\nit' }))).toMatchObject({
    approval: { kind: 'tool', summary: 'WebFetch: fetch\\nit' },
  });
  // No suggestion: the exact command is the scope.
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Bash', input: { command: 'make' } }))).toMatchObject({ approval: { sessionScope: { commandPrefix: 'make' } } });
});

test('hostile lines: not JSON, no request id, odd fields; a huge input is kept bounded', () => {
  expect(parseClaudeControl('{"type":"control_request"')).toBeNull();
  expect(parseClaudeControl(JSON.stringify({ type: 'control_request', request: { subtype: 'can_use_tool' } }))).toBeNull();
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 42, input: {} }))).toEqual({ type: 'otherRequest', requestId: 'r1', subtype: 'can_use_tool' });
  expect(parseClaudeControl(req({ subtype: 'hook_callback' }))).toEqual({ type: 'otherRequest', requestId: 'r1', subtype: 'hook_callback' });
  expect(parseClaudeControl(JSON.stringify({ type: 'control_cancel_request', request_id: 'r9' }))).toEqual({ type: 'cancel', requestId: 'r9' });
  expect(parseClaudeControl(JSON.stringify({ type: 'assistant', text: '"control_request"' }))).toBeNull();
  const big = parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Write', input: { file_path: 'a', content: 'x'.repeat(200_000) } }));
  expect(big?.type === 'canUseTool' && JSON.stringify(big.approval.request).length).toBeLessThan(MAX_REQUEST_CHARS + 100);
});

test('answers: allow runs the original input; deny carries the message (a default when none); others are errors', () => {
  expect(JSON.parse(claudePermissionResponse('r1', { command: 'ls' }, { decision: 'allow_for_session' }))).toEqual({
    type: 'control_response',
    response: { subtype: 'success', request_id: 'r1', response: { behavior: 'allow', updatedInput: { command: 'ls' } } },
  });
  expect(JSON.parse(claudePermissionResponse('r1', {}, { decision: 'deny', message: 'no' })).response.response).toEqual({ behavior: 'deny', message: 'no' });
  expect(JSON.parse(claudePermissionResponse('r1', {}, { decision: 'deny' })).response.response).toEqual({ behavior: 'deny', message: 'The user denied this request.' });
  expect(JSON.parse(claudeControlError('r2', 'hook_callback'))).toEqual({
    type: 'control_response',
    response: { subtype: 'error', request_id: 'r2', error: 'agentvisor does not serve control request hook_callback' },
  });
});
