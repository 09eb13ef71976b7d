import { formatClaudeLine } from '../../src/worker/claudeFormatter';

const line = (event: unknown) => JSON.stringify(event);

describe('formatClaudeLine', () => {
  test('system init yields a session line and the session id', () => {
    const out = formatClaudeLine(line({ type: 'system', subtype: 'init', session_id: 'sess-123', model: 'claude-x', cwd: '/w' }));
    expect(out.sessionId).toBe('sess-123');
    expect(out.lines).toEqual(['[session] sess-123 model=claude-x cwd=/w']);
    expect(out.result).toBeUndefined();
  });

  test('other system subtypes yield no lines but still the session id', () => {
    const out = formatClaudeLine(line({ type: 'system', subtype: 'compact_boundary', session_id: 's' }));
    expect(out.lines).toEqual([]);
    expect(out.sessionId).toBe('s');
  });

  test('assistant text becomes lines, one per text line', () => {
    const out = formatClaudeLine(line({ type: 'assistant', session_id: 's', message: { content: [{ type: 'text', text: 'first\nsecond\n\nfourth' }] } }));
    expect(out.lines).toEqual(['first', 'second', '', 'fourth']);
    expect(out.sessionId).toBe('s');
  });

  test('assistant message whose content is a plain string is shown as text', () => {
    expect(formatClaudeLine(line({ type: 'assistant', message: { content: 'hi there' } })).lines).toEqual(['hi there']);
  });

  test('tool_use shows the tool name and its key argument', () => {
    const out = formatClaudeLine(
      line({
        type: 'assistant',
        message: {
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 't1', name: 'Read', input: { file_path: '/w/src/a.ts', limit: 10 } },
            { type: 'tool_use', id: 't2', name: 'Bash', input: { command: 'npm test\n  --silent', description: 'run tests' } },
          ],
        },
      }),
    );
    expect(out.lines).toEqual(['Let me look.', '[tool] Read file_path=/w/src/a.ts', '[tool] Bash command=npm test --silent']);
  });

  test('tool_use with no recognised argument shows just the name', () => {
    const out = formatClaudeLine(line({ type: 'assistant', message: { content: [{ type: 'tool_use', name: 'TodoWrite', input: { todos: [] } }] } }));
    expect(out.lines).toEqual(['[tool] TodoWrite']);
  });

  test('a very long tool argument is cut to a snippet', () => {
    const cmd = 'x'.repeat(1000);
    const [shown] = formatClaudeLine(line({ type: 'assistant', message: { content: [{ type: 'tool_use', name: 'Bash', input: { command: cmd } }] } })).lines;
    expect(shown.startsWith('[tool] Bash command=xxx')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown.length).toBeLessThan(400);
  });

  test('user tool_result with string content', () => {
    const out = formatClaudeLine(line({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 't1', content: 'line one\nline two' }] } }));
    expect(out.lines).toEqual(['[tool result] line one line two']);
  });

  test('user tool_result with array content joins the text blocks', () => {
    const out = formatClaudeLine(
      line({
        type: 'user',
        message: {
          content: [
            {
              type: 'tool_result',
              content: [
                { type: 'text', text: 'alpha' },
                { type: 'image', source: {} },
                { type: 'text', text: 'beta' },
              ],
            },
          ],
        },
      }),
    );
    expect(out.lines).toEqual(['[tool result] alpha beta']);
  });

  test('user tool_result with is_error is tagged as an error', () => {
    const out = formatClaudeLine(line({ type: 'user', message: { content: [{ type: 'tool_result', is_error: true, content: 'ENOENT: no such file' }] } }));
    expect(out.lines).toEqual(['[tool error] ENOENT: no such file']);
  });

  test('a user message without tool results (the echoed prompt) yields no lines', () => {
    expect(formatClaudeLine(line({ type: 'user', message: { content: 'do the task' } })).lines).toEqual([]);
  });

  test('result success: not an error, one summary line, text carried', () => {
    const out = formatClaudeLine(
      line({
        type: 'result',
        subtype: 'success',
        is_error: false,
        result: 'All done.',
        duration_ms: 12345,
        num_turns: 3,
        total_cost_usd: 0.01234,
        session_id: 's',
      }),
    );
    expect(out.result).toEqual({ isError: false, text: 'All done.' });
    expect(out.lines).toEqual(['[result] success duration=12.3s turns=3 cost=$0.0123']);
    expect(out.sessionId).toBe('s');
  });

  test('result with is_error: true is an error even when subtype says success, and shows the text', () => {
    const out = formatClaudeLine(line({ type: 'result', subtype: 'success', is_error: true, result: 'API Error: 401 invalid key\nretry later' }));
    expect(out.result).toEqual({ isError: true, text: 'API Error: 401 invalid key\nretry later' });
    expect(out.lines[0]).toMatch(/^\[result\] error /);
    expect(out.lines.slice(1)).toEqual(['[error] API Error: 401 invalid key', 'retry later']);
  });

  test('result with a non-success subtype is an error', () => {
    const out = formatClaudeLine(line({ type: 'result', subtype: 'error_max_turns', is_error: false }));
    expect(out.result).toEqual({ isError: true, text: '' });
    expect(out.lines).toEqual(['[result] error duration=? turns=? cost=?']);
  });

  test('a line that is not JSON is kept verbatim', () => {
    const raw = 'Error: something broke {not json';
    expect(formatClaudeLine(raw)).toEqual({ lines: [raw] });
  });

  test('JSON that is not an object is kept verbatim', () => {
    for (const raw of ['42', '"text"', 'null', '[1,2]', 'true']) {
      expect(formatClaudeLine(raw)).toEqual({ lines: [raw] });
    }
  });

  test('unknown event types produce no lines', () => {
    expect(formatClaudeLine(line({ type: 'stream_event', event: { delta: 'x' } })).lines).toEqual([]);
    expect(formatClaudeLine(line({ no_type: true })).lines).toEqual([]);
  });

  // #12 item 8: a newline in a field made one line in memory and two on disk.
  test('no field can put a line break inside a formatted line', () => {
    const nl = 'a\nb\r\nc';
    const formatted = [
      formatClaudeLine(line({ type: 'system', subtype: 'init', session_id: nl, model: nl, cwd: nl })),
      formatClaudeLine(line({ type: 'system', subtype: 'api_retry', attempt: nl, max_retries: nl, error_status: nl, error: nl })),
      formatClaudeLine(
        line({
          type: 'assistant',
          message: {
            content: [
              { type: 'tool_use', name: nl, input: { command: nl } },
              { type: 'thinking', thinking: nl },
            ],
          },
        }),
      ),
      formatClaudeLine(line({ type: 'user', message: { content: [{ type: 'tool_result', content: nl }] } })),
      formatClaudeLine(line({ type: 'result', subtype: 'success', num_turns: nl })),
    ];
    for (const f of formatted) {
      expect(f.lines.length).toBeGreaterThan(0);
      for (const l of f.lines) expect(l).not.toMatch(/[\n\r]/);
    }
    expect(formatted[0].lines).toEqual(['[session] a\\nb\\r\\nc model=a\\nb\\r\\nc cwd=a\\nb\\r\\nc']);
    expect(formatted[2].lines[0]).toBe('[tool] a\\nb\\r\\nc command=a b c');
  });
});
