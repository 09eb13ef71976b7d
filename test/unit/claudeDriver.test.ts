/**
 * The Claude driver on its own: what it writes to Claude's stdin, how it reads stream-json events
 * (echoes, results, usage), when it closes input, and its verdict at exit.
 */
import { NO_LIMITS, type WorkerSpec } from '../../src/shared/protocol';
import { ClaudeDriver, claudeUsageDelta } from '../../src/worker/drivers/claude';
import type { DriverEvent } from '../../src/worker/drivers/driver';
import { FakeAgentProcess } from '../support/fakeAgentProcess';

const spec = { agent: 'claude-code', model: 'opus', mode: 'edit', limits: NO_LIMITS } as WorkerSpec;
const json = (o: unknown) => JSON.stringify(o);
const result = (extra: Record<string, unknown> = {}) => json({ type: 'result', subtype: 'success', is_error: false, result: 'Done.', session_id: 'S1', num_turns: 1, duration_ms: 10, ...extra });

function setup() {
  const events: DriverEvent[] = [];
  const driver = new ClaudeDriver({ spec, emit: (e) => events.push(e) });
  const proc = new FakeAgentProcess();
  /** The uuids of the user messages written so far. */
  const uuids = () => proc.writes.filter((w) => w.includes('"type":"user"')).map((w) => JSON.parse(w).uuid as string);
  const echo = (uuid: string) => driver.stdoutLine(json({ type: 'user', isReplay: true, uuid, session_id: 'S1', message: { role: 'user', content: 'x' } }));
  return { events, driver, proc, uuids, echo };
}

test('argv: stream-json both ways, the mode and model, --resume when continuing; messages go to stdin, not argv', () => {
  const { driver } = setup();
  const args = driver.command(['secret task'], 'S0');
  expect(args).toEqual(expect.arrayContaining(['--input-format', 'stream-json', '--permission-mode', 'acceptEdits', '--model', 'opus', '--resume', 'S0']));
  expect(args.join(' ')).not.toContain('secret task');
  expect(driver.command(['x'], null)).not.toContain('--resume');
});

test("maxCostUsd: Claude also gets --max-budget-usd, what is left after the previous workers and this worker's processes", () => {
  const limited = { ...spec, limits: { ...NO_LIMITS, maxCostUsd: 1 }, spent: { usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, costUsd: 0.25, turns: 1 }, runMs: 0 } };
  const driver = new ClaudeDriver({ spec: limited, emit: () => undefined });
  const budget = (args: string[]) => args[args.indexOf('--max-budget-usd') + 1];
  expect(budget(driver.command(['x'], 'S0'))).toBe('0.75');
  driver.begin(new FakeAgentProcess(), ['x'], 'S0');
  driver.stdoutLine(result({ usage: { input_tokens: 1, output_tokens: 1 }, total_cost_usd: 0.5 }));
  expect(budget(driver.command(['y'], 'S0'))).toBe('0.25');
  expect(setup().driver.command(['x'], null)).not.toContain('--max-budget-usd');
});

test('every message is written with a uuid; once each is echoed and a result follows, stdin is closed', () => {
  const { driver, proc, uuids, echo, events } = setup();
  driver.begin(proc, ['one', 'two'], null);
  expect(uuids()).toHaveLength(2);
  expect(JSON.parse(proc.writes[0]).message).toEqual({ role: 'user', content: 'one' });
  echo(uuids()[0]);
  driver.stdoutLine(result());
  // "two" is not echoed yet: Claude has not taken it up, so its input stays open.
  expect(proc.inputClosed).toBe(false);
  expect(driver.deliver('three')).toEqual({ outcome: 'delivered' });
  echo(uuids()[1]);
  echo(uuids()[2]);
  driver.stdoutLine(result({ result: 'All three.' }));
  expect(proc.inputClosed).toBe(true);
  expect(driver.deliver('four')).toEqual({ outcome: 'queue', note: 'Claude had finished answering; the conversation continues with this message.' });
  expect(events.filter((e) => e.type === 'finalAnswer')).toEqual([
    { type: 'finalAnswer', text: 'Done.' },
    { type: 'finalAnswer', text: 'All three.' },
  ]);
  expect(events.filter((e) => e.type === 'turnEnded')).toEqual([
    { type: 'turnEnded', ok: true },
    { type: 'turnEnded', ok: true },
  ]);
  expect(driver.processExited({ exitCode: 0, signal: null })).toEqual({ completedSuccessfully: true });
});

test('a CLI that echoes nothing: each message is answered by its own result', () => {
  const { driver, proc } = setup();
  driver.begin(proc, ['one', 'two'], null);
  driver.stdoutLine(result());
  expect(proc.inputClosed).toBe(false);
  driver.stdoutLine(result());
  expect(proc.inputClosed).toBe(true);
});

test('init opens a turn and names the session; a failed result is an error, the turn not ok, the session not a success', () => {
  const { driver, proc, events } = setup();
  driver.begin(proc, ['one'], null);
  driver.stdoutLine(json({ type: 'system', subtype: 'init', session_id: 'S1', model: 'm', cwd: '/w' }));
  driver.stdoutLine(result({ subtype: 'error_during_execution', is_error: true, result: 'API Error: boom' }));
  expect(events).toEqual([
    { type: 'agentSessionId', id: 'S1' },
    { type: 'turnStarted' },
    { type: 'line', text: '[session] S1 model=m cwd=/w' },
    { type: 'agentSessionId', id: 'S1' },
    { type: 'line', text: expect.stringMatching(/^\[result\] error /) },
    { type: 'line', text: '[error] API Error: boom' },
    { type: 'error', text: 'API Error: boom' },
    { type: 'finalAnswer', text: 'API Error: boom' },
    { type: 'turnEnded', ok: false },
  ]);
  expect(driver.processExited({ exitCode: 1, signal: null })).toEqual({ completedSuccessfully: false });
});

test("usage: each result reports its turn; the cost, cumulative per process, becomes the turn's own, from 0 again in a resumed process", () => {
  const { driver, proc, events } = setup();
  driver.begin(proc, ['one', 'two'], null);
  const usage = (i: number, o: number, cacheRead = 0, cacheWrite = 0) => ({ input_tokens: i, output_tokens: o, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: cacheWrite });
  driver.stdoutLine(result({ usage: usage(20, 10, 4, 6), total_cost_usd: 0.35 }));
  driver.stdoutLine(result({ usage: usage(10, 5), total_cost_usd: 0.5 }));
  const resumed = new FakeAgentProcess();
  driver.begin(resumed, ['three'], 'S1');
  driver.stdoutLine(result({ usage: usage(10, 5) }));
  driver.stdoutLine(result({ total_cost_usd: 1 })); // no usage object: nothing reported
  const deltas = events.flatMap((e) => (e.type === 'usage' ? [e.delta] : []));
  expect(deltas).toHaveLength(3);
  expect(deltas[0]).toEqual({ inputTokens: 30, cachedInputTokens: 4, outputTokens: 10, costUsd: 0.35 });
  expect(deltas[1]).toMatchObject({ inputTokens: 10, cachedInputTokens: 0, outputTokens: 5 });
  expect(deltas[1].costUsd).toBeCloseTo(0.15, 10);
  expect(deltas[2]).toEqual({ inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, costUsd: null });
});

test('hostile usage values count as nothing, never as NaN or negative', () => {
  const delta = claudeUsageDelta({ inputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, outputTokens: 0, totalCostUsd: 0.1 }, 0.5);
  expect(delta).toEqual({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, costUsd: 0 });
  const { driver, proc, events } = setup();
  driver.begin(proc, ['one'], null);
  driver.stdoutLine(result({ usage: { input_tokens: 'many', output_tokens: -5, cache_read_input_tokens: Infinity }, total_cost_usd: 'free' }));
  expect(events.find((e) => e.type === 'usage')).toEqual({ type: 'usage', delta: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, costUsd: null } });
});

test('interrupt: the stream-json interrupt request while stdin is open, SIGINT after; raw input goes to stdin as is; an answer to no request is refused', () => {
  const { driver, proc } = setup();
  driver.begin(proc, ['one'], null);
  driver.interrupt();
  expect(JSON.parse(proc.writes.at(-1)!)).toMatchObject({ type: 'control_request', request: { subtype: 'interrupt' } });
  expect(driver.deliverRaw('raw\n')).toEqual({ outcome: 'delivered' });
  expect(proc.writes.at(-1)).toBe('raw\n');
  driver.stdoutLine(result());
  driver.interrupt();
  expect(proc.signals).toEqual(['SIGINT']);
  expect(driver.answerApproval('ap_unknown', { decision: 'allow' })).toEqual({ ok: false, error: 'Claude is not waiting for it' });
});

test('an api_retry naming a known cause is reported as an error the session may keep', () => {
  const { driver, proc, events } = setup();
  driver.begin(proc, ['one'], null);
  driver.stdoutLine(json({ type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 10, error_status: 401, error: 'authentication_error' }));
  expect(events.find((e) => e.type === 'error')).toEqual({ type: 'error', text: expect.stringMatching(/^\[api retry\] attempt 1\/10 HTTP 401/), onlyIfRecognised: true });
});

describe('mode ask: permission requests', () => {
  const askReq = (id: string) => json({ type: 'control_request', request_id: id, request: { subtype: 'can_use_tool', tool_name: 'Bash', input: { command: 'ls' } } });
  function askSetup() {
    const events: DriverEvent[] = [];
    const driver = new ClaudeDriver({ spec: { ...spec, mode: 'ask' }, emit: (e) => events.push(e) });
    const proc = new FakeAgentProcess();
    const pendingIds = () => events.flatMap((e) => (e.type === 'approvalPending' ? [e.approval.approvalId] : []));
    return { events, driver, proc, pendingIds };
  }

  test('argv asks Claude for stdio permission prompts', () => {
    expect(askSetup().driver.command(['x'], null)).toEqual(expect.arrayContaining(['--permission-mode', 'default', '--permission-prompt-tool', 'stdio']));
  });

  test('a request is reported pending; stdin stays open past a result while it waits; the answer is written once', () => {
    const { driver, proc, pendingIds } = askSetup();
    driver.begin(proc, ['one'], null);
    driver.stdoutLine(askReq('R1'));
    expect(pendingIds()).toHaveLength(1);
    driver.stdoutLine(result());
    expect(proc.inputClosed).toBe(false);
    expect(driver.answerApproval(pendingIds()[0], { decision: 'deny', message: 'no' })).toEqual({ ok: true });
    expect(JSON.parse(proc.writes.at(-1)!)).toEqual({ type: 'control_response', response: { subtype: 'success', request_id: 'R1', response: { behavior: 'deny', message: 'no' } } });
    expect(driver.answerApproval(pendingIds()[0], { decision: 'allow' })).toEqual({ ok: false, error: 'Claude is not waiting for it' });
    driver.stdoutLine(result());
    expect(proc.inputClosed).toBe(true);
  });

  test('a cancel withdraws it; other control requests, and any request outside mode ask, get an error at once', () => {
    const { driver, proc, events, pendingIds } = askSetup();
    driver.begin(proc, ['one'], null);
    driver.stdoutLine(askReq('R1'));
    driver.stdoutLine(json({ type: 'control_cancel_request', request_id: 'R1' }));
    expect(events.filter((e) => e.type === 'approvalResolved')).toEqual([{ type: 'approvalResolved', approvalId: pendingIds()[0] }]);
    driver.stdoutLine(json({ type: 'control_request', request_id: 'R2', request: { subtype: 'hook_callback' } }));
    expect(JSON.parse(proc.writes.at(-1)!).response).toMatchObject({ subtype: 'error', request_id: 'R2' });
    const plain = setup();
    plain.driver.begin(plain.proc, ['one'], null);
    plain.driver.stdoutLine(askReq('R3'));
    expect(JSON.parse(plain.proc.writes.at(-1)!).response).toMatchObject({ subtype: 'error', request_id: 'R3' });
    expect(plain.events.some((e) => e.type === 'approvalPending')).toBe(false);
  });

  test('the process ending drops what it asked: a late answer is refused', () => {
    const { driver, proc, pendingIds } = askSetup();
    driver.begin(proc, ['one'], null);
    driver.stdoutLine(askReq('R1'));
    driver.processExited({ exitCode: 1, signal: null });
    expect(driver.answerApproval(pendingIds()[0], { decision: 'allow' })).toEqual({ ok: false, error: 'Claude is not waiting for it' });
  });
});
