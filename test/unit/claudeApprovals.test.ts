/** Claude's control messages in mode ask: what a permission request becomes, and the answers written back. */
import { claudeControlError, claudePermissionResponse, parseClaudeControl } from '../../src/worker/drivers/claudeApprovals';
import { MAX_REQUEST_CHARS } from '../../src/worker/drivers/shared';
import { ApprovalBook } from '../../src/worker/approvals';

const req = (request: Record<string, unknown>, requestId = 'r1') => JSON.stringify({ type: 'control_request', request_id: requestId, request });

test('can_use_tool → kind, one-line summary, tool, command and the scope Claude suggests', () => {
  const bash = parseClaudeControl(
    req({ subtype: 'can_use_tool', tool_name: 'Bash', input: { command: 'npm test -- a' }, permission_suggestions: [{ type: 'addRules', rules: [{ toolName: 'Bash', ruleContent: 'npm test:*' }] }] }),
  );
  expect(bash).toMatchObject({
    type: 'canUseTool',
    requestId: 'r1',
    approval: { kind: 'command', summary: 'Bash: npm test -- a', tool: 'Bash', command: 'npm test -- a', sessionScope: { tool: 'Bash', match: 'commandPrefix', value: 'npm test' } },
  });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Write', input: { file_path: 'src/a.ts', content: 'x' } }))).toMatchObject({
    approval: { kind: 'file_change', summary: 'Write src/a.ts', sessionScope: { tool: 'Write', match: 'file', value: 'src/a.ts' } },
  });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Edit', input: { file_path: '/w/src/a.ts' } }), '/w')).toMatchObject({ approval: { summary: 'Edit src/a.ts' } });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Edit', input: { file_path: '/etc/passwd' } }), '/w')).toMatchObject({ approval: { summary: 'Edit /etc/passwd' } });
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'WebFetch', input: { url: 'u' }, description: 'fetch\nit' }))).toMatchObject({
    approval: { kind: 'tool', summary: 'WebFetch: fetch\\nit' },
  });
  // No suggestion: the exact command is the scope.
  expect(parseClaudeControl(req({ subtype: 'can_use_tool', tool_name: 'Bash', input: { command: 'make' } }))).toMatchObject({ approval: { sessionScope: { match: 'command', value: 'make' } } });
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

/** Claude's requests through a real ApprovalBook: the first is answered allow_for_session; which later ones does the grant answer? */
function grantCovers(first: Record<string, unknown>, later: Array<Record<string, unknown>>): boolean[] {
  const ruled = new Set<string>();
  const book = new ApprovalBook({ allowTools: [], allowCommandPrefixes: [], timeoutMs: 0 }, (id, a) => (a.decision === 'allow' && ruled.add(id), { ok: true }), {
    emit: () => undefined,
    line: () => undefined,
    changed: () => undefined,
  });
  const ask = (request: Record<string, unknown>, id: string) => {
    const c = parseClaudeControl(req({ subtype: 'can_use_tool', ...request }, id));
    if (c?.type !== 'canUseTool') throw new Error('not a tool request');
    book.requested({ approvalId: id, ...c.approval });
  };
  ask(first, 'first');
  book.answer('first', 'allow_for_session', null, 'test');
  later.forEach((r, i) => ask(r, `later-${i}`));
  book.dispose();
  return later.map((_, i) => ruled.has(`later-${i}`));
}

const bash = (command: string, suggestions?: unknown) => ({ tool_name: 'Bash', input: { command }, ...(suggestions ? { permission_suggestions: suggestions } : {}) });
const rules = (...r: Array<[string, string?]>) => [{ type: 'addRules', rules: r.map(([toolName, ruleContent]) => ({ toolName, ...(ruleContent !== undefined ? { ruleContent } : {}) })) }];

test('allow_for_session, Bash: without a fitting suggestion the grant is the exact command only, never a prefix that accepts more arguments', () => {
  expect(grantCovers(bash('rm -rf build'), [bash('rm -rf build /home/user'), bash('rm -rf build2'), bash('rm -rf build')])).toEqual([false, false, true]);
  // A suggestion for another command, or an exact rule (no wildcard), does not widen it either.
  expect(grantCovers(bash('rm -rf build', rules(['Bash', 'git status:*'])), [bash('rm -rf build /'), bash('git status')])).toEqual([false, false]);
  expect(grantCovers(bash('rm -rf build', rules(['Bash', 'rm -rf build'])), [bash('rm -rf build /'), bash('rm -rf build')])).toEqual([false, true]);
  // Claude's own wildcard suggestion is a prefix: arguments after it are covered.
  expect(grantCovers(bash('npm test -- a', rules(['Bash', 'npm test:*'])), [bash('npm test -- b'), bash('npm publish')])).toEqual([true, false]);
});

test('allow_for_session, file tools: the grant covers that tool on the same file path only', () => {
  const write = (file_path: string) => ({ tool_name: 'Write', input: { file_path, content: 'x' } });
  expect(grantCovers(write('src/a.ts'), [write('src/a.ts'), write('/home/user/.bashrc'), { tool_name: 'Edit', input: { file_path: 'src/a.ts' } }])).toEqual([true, false, false]);
  const nb = (notebook_path: string) => ({ tool_name: 'NotebookEdit', input: { notebook_path, new_source: 'x' } });
  expect(grantCovers(nb('a.ipynb'), [nb('a.ipynb'), nb('b.ipynb')])).toEqual([true, false]);
});

test("allow_for_session, other tools: the whole tool only when Claude's suggestion says so, else the same input only", () => {
  const fetch = (url: string, suggestions?: unknown) => ({ tool_name: 'WebFetch', input: { url }, ...(suggestions ? { permission_suggestions: suggestions } : {}) });
  expect(grantCovers(fetch('https://a.example'), [fetch('https://a.example'), fetch('https://evil.example')])).toEqual([true, false]);
  expect(grantCovers(fetch('https://a.example', rules(['WebFetch', 'domain:a.example'])), [fetch('https://evil.example')])).toEqual([false]);
  expect(grantCovers(fetch('https://a.example', rules(['WebFetch'])), [fetch('https://evil.example'), bash('ls')])).toEqual([true, false]);
});
