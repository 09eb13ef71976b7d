import { CLAUDE_SYSTEM_PROMPT, claudeUserMessage, turnCommand } from '../../src/shared/agentCommands';

const full = { model: null, mode: 'full' as const };

describe('turnCommand (codex)', () => {
  const nasty = ['plain task', '-rf --help', '--yolo', '$(rm -rf /); `id` && echo "quoted" \'single\' | cat > /etc/passwd', 'line one\nline two\r\n\ttabbed', '', 'ünïcödé ✓ \u0000 nul'];

  test.each(nasty)('the task is the last argv element after "--", byte-identical: %j', (task) => {
    const { args, pty } = turnCommand('codex', full, task, null);
    expect(pty).toBe(true);
    expect(args[args.length - 1]).toBe(task);
    expect(args[args.length - 2]).toBe('--');
    // The task changes nothing but that last element.
    expect(args.slice(0, -1)).toEqual(turnCommand('codex', full, 'neutral', null).args.slice(0, -1));
  });

  test('runs exec, skips the git repo check and bounds connection retries', () => {
    const { args } = turnCommand('codex', full, 't', null);
    expect(args).toEqual(['--yolo', '--disable', 'unbounded_connection_retries', 'exec', '--skip-git-repo-check', '--', 't']);
  });

  test('edit and plan modes choose the sandbox and never ask for approval', () => {
    expect(turnCommand('codex', { model: null, mode: 'edit' }, 't', null).args).toEqual([
      '--sandbox',
      'workspace-write',
      '--ask-for-approval',
      'never',
      '--disable',
      'unbounded_connection_retries',
      'exec',
      '--skip-git-repo-check',
      '--',
      't',
    ]);
    const plan = turnCommand('codex', { model: null, mode: 'plan' }, 't', null).args;
    expect(plan.slice(0, 4)).toEqual(['--sandbox', 'read-only', '--ask-for-approval', 'never']);
    expect(plan).not.toContain('--yolo');
  });

  test('model and resume id are single elements before the task', () => {
    const { args } = turnCommand('codex', { model: 'gpt-x', mode: 'full' }, 'continue', 'thread-123');
    expect(args).toEqual(['--yolo', '--model', 'gpt-x', '--disable', 'unbounded_connection_retries', 'exec', '--skip-git-repo-check', 'resume', 'thread-123', '--', 'continue']);
  });
});

describe('turnCommand (claude-code)', () => {
  test('uses stream-json in and out over pipes, and never puts the task in argv', () => {
    const task = 'SECRET TASK TEXT -- with --flags';
    const { args, pty } = turnCommand('claude-code', full, task, null);
    expect(pty).toBe(false);
    expect(args).toEqual(expect.arrayContaining(['--print', '--verbose']));
    expect(args[args.indexOf('--output-format') + 1]).toBe('stream-json');
    expect(args[args.indexOf('--input-format') + 1]).toBe('stream-json');
    expect(args.some((a) => a.includes('SECRET TASK TEXT'))).toBe(false);
    expect(args[args.indexOf('--append-system-prompt') + 1]).toBe(CLAUDE_SYSTEM_PROMPT);
    // Claude echoes each message it takes up: how the worker knows which ones a result answers.
    expect(args).toContain('--replay-user-messages');
  });

  test('full mode skips permissions; edit and plan set the permission mode', () => {
    expect(turnCommand('claude-code', full, 't', null).args).toContain('--dangerously-skip-permissions');
    const edit = turnCommand('claude-code', { model: null, mode: 'edit' }, 't', null).args;
    expect(edit[edit.indexOf('--permission-mode') + 1]).toBe('acceptEdits');
    expect(edit).not.toContain('--dangerously-skip-permissions');
    const plan = turnCommand('claude-code', { model: null, mode: 'plan' }, 't', null).args;
    expect(plan[plan.indexOf('--permission-mode') + 1]).toBe('plan');
    expect(plan).not.toContain('--dangerously-skip-permissions');
  });

  test('ask mode asks the prompt tool and loads no settings source and no MCP server but its own (settings could allow before it is asked)', () => {
    const ask = turnCommand('claude-code', { model: null, mode: 'ask' }, 't', null).args;
    expect(ask[ask.indexOf('--permission-mode') + 1]).toBe('default');
    expect(ask[ask.indexOf('--permission-prompt-tool') + 1]).toBe('stdio');
    expect(ask[ask.indexOf('--setting-sources') + 1]).toBe('');
    expect(ask).toContain('--strict-mcp-config');
    expect(ask).not.toContain('--mcp-config');
  });

  test('model and resume id are passed as flag values', () => {
    const args = turnCommand('claude-code', { model: 'opus', mode: 'full' }, 't', 'sess-42').args;
    expect(args[args.indexOf('--model') + 1]).toBe('opus');
    expect(args[args.indexOf('--resume') + 1]).toBe('sess-42');
    expect(turnCommand('claude-code', full, 't', null).args).not.toContain('--resume');
    expect(turnCommand('claude-code', full, 't', null).args).not.toContain('--model');
  });
});

describe('claudeUserMessage', () => {
  test('is one JSON line carrying the text unchanged', () => {
    const text = 'multi\nline "quoted" \\ text';
    const msg = claudeUserMessage(text);
    expect(msg.endsWith('\n')).toBe(true);
    expect(msg.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(msg)).toEqual({ type: 'user', message: { role: 'user', content: text } });
  });

  test('carries the uuid Claude echoes back', () => {
    const uuid = '0b5e2f4c-8d4e-4c41-9a53-8f2d6f1c2a77';
    expect(JSON.parse(claudeUserMessage('hi', uuid))).toEqual({ type: 'user', message: { role: 'user', content: 'hi' }, uuid });
  });
});

describe('instructions (issue 19 item 6)', () => {
  const instructions = '-- "quoted" \\ back\nslash ü\t$(id)';

  test("claude: one --append-system-prompt, agentvisor's prompt first, the instructions byte-identical after it", () => {
    const args = turnCommand('claude-code', { ...full, instructions }, 't', null).args;
    expect(args.filter((a) => a === '--append-system-prompt')).toHaveLength(1);
    const prompt = args[args.indexOf('--append-system-prompt') + 1];
    expect(prompt.startsWith(CLAUDE_SYSTEM_PROMPT)).toBe(true);
    expect(prompt.endsWith(instructions)).toBe(true);
    expect(turnCommand('claude-code', { ...full, instructions: null }, 't', null).args).toContain(CLAUDE_SYSTEM_PROMPT);
  });

  test('codex exec: one -c developer_instructions override before exec, a TOML string that reads back as the text', () => {
    const args = turnCommand('codex', { ...full, instructions }, 't', 'thread-1').args;
    const i = args.indexOf('-c');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(i).toBeLessThan(args.indexOf('exec'));
    const [key, value] = [args[i + 1].slice(0, args[i + 1].indexOf('=')), args[i + 1].slice(args[i + 1].indexOf('=') + 1)];
    expect(key).toBe('developer_instructions');
    expect(JSON.parse(value)).toBe(instructions);
    expect(turnCommand('codex', full, 't', null).args).not.toContain('-c');
  });
});
