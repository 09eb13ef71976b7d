/**
 * Codex app-server notifications → readable lines, usage and turn outcomes. The recorded
 * fixtures are what the real codex 0.169 wrote on stdout against the scripted model server
 * (test/support/modelServer.ts, 10 input + 5 output tokens per model call): a first process
 * (a text turn; a turn running `echo hi; exit 3`; a turn steered mid-way; an interrupted turn)
 * and a second one that resumed the thread (a turn whose apply_patch the read-only sandbox refused).
 */
import fs from 'node:fs';
import path from 'node:path';
import { COMMAND_OUTPUT_LINES, CodexItemFormatter, itemLines } from '../../src/worker/drivers/codexItems';
import type { UsageDelta } from '../../src/worker/drivers/driver';

function recorded(name: string): Array<{ method?: string; params?: unknown }> {
  const file = path.join(__dirname, '..', 'fixtures', `codexAppServer-0.169-${name}.jsonl`);
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

function fold(messages: Array<{ method?: string; params?: unknown }>, f = new CodexItemFormatter()) {
  const lines: string[] = [];
  const usage: UsageDelta[] = [];
  const ends: unknown[] = [];
  for (const m of messages) {
    if (typeof m.method !== 'string') continue; // answers to our requests
    const out = f.notification(m.method, m.params);
    lines.push(...out.lines);
    if (out.usage) usage.push(out.usage);
    if (out.turnEnded) ends.push(out.turnEnded);
  }
  const sum = usage.reduce((a, u) => ({ in: a.in + u.inputTokens, out: a.out + u.outputTokens }), { in: 0, out: 0 });
  return { lines, usage, ends, sum };
}

test('a recorded session reads as one line per item, never repeated by its deltas', () => {
  const { lines, ends, sum } = fold(recorded('first'));
  expect(lines).toEqual([
    // Not the configWarning about bubblewrap: Codex logs it on stderr too.
    'hello one',
    '[result] success tokens in=10 out=5 (0.1 s)',
    "[command] /bin/bash -lc 'echo hi; exit 3' → exit 3 (0.0 s)",
    '  hi',
    'after cmd',
    expect.stringMatching(/^\[result\] success tokens in=20 out=10 \(\d+\.\d s\)$/),
    'after steer',
    // The steered turn: the answer Codex dropped for the steer is not counted (Codex does not).
    expect.stringMatching(/^\[result\] success tokens in=10 out=5 /),
    '[result] interrupted tokens in=0 out=0 (0.5 s)',
  ]);
  expect(new Set(lines).size).toBe(lines.length);
  expect(ends).toEqual([
    expect.objectContaining({ outcome: 'completed', errorSummary: null }),
    expect.objectContaining({ outcome: 'completed' }),
    expect.objectContaining({ outcome: 'completed' }),
    expect.objectContaining({ outcome: 'interrupted', errorSummary: null }),
  ]);
  // Four model calls answered, each 10 in / 5 out.
  expect(sum).toEqual({ in: 40, out: 20 });
});

test("a resumed thread's old totals are history, not new usage", () => {
  const { lines, usage, sum } = fold(recorded('resumed'));
  // Codex restates the thread's 40/20 on resume, then two model calls of this process.
  expect(usage).toHaveLength(2);
  expect(sum).toEqual({ in: 20, out: 10 });
  expect(lines).toEqual(['refused', expect.stringMatching(/^\[result\] success tokens in=20 out=10 /)]);
});

const turn = (id: string) => ({ method: 'turn/started', params: { turn: { id } } });
const usage = (turnId: string, total: number, last: number) => ({
  method: 'thread/tokenUsage/updated',
  params: { turnId, tokenUsage: { total: { inputTokens: total, cachedInputTokens: 1, outputTokens: total / 2 }, last: { inputTokens: last, cachedInputTokens: 1, outputTokens: last / 2 } } },
});

test('usage: the first update of a fresh thread counts its own call, later ones the growth of the totals', () => {
  const { usage: deltas } = fold([turn('t1'), usage('t1', 10, 10), usage('t1', 30, 20), usage('other', 100, 70), usage('t1', 130, 30)]);
  expect(deltas).toEqual([
    { inputTokens: 10, cachedInputTokens: 1, outputTokens: 5, costUsd: null },
    { inputTokens: 20, cachedInputTokens: 0, outputTokens: 10, costUsd: null },
    { inputTokens: 30, cachedInputTokens: 0, outputTokens: 15, costUsd: null },
  ]);
});

test('agent text: its own lines, escape sequences and control characters removed', () => {
  const item = { type: 'agentMessage', id: 'm', text: 'one\x1b]52;c;ZXZpbA==\x07\r\ntwo \x1b[31mred\x1b[0m\x9b2J' };
  expect(itemLines(item)).toEqual(['one', 'two red']);
});

test('commands: one head line, then the output bounded', () => {
  const output = Array.from({ length: COMMAND_OUTPUT_LINES + 5 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const lines = itemLines({ type: 'commandExecution', id: 'c', command: 'npm test\n&& rm -rf x', exitCode: 0, durationMs: 1234, aggregatedOutput: output });
  expect(lines[0]).toBe('[command] npm test\\n&& rm -rf x → exit 0 (1.2 s)');
  expect(lines.slice(1, 3)).toEqual(['  line 0', '  line 1']);
  expect(lines).toHaveLength(1 + COMMAND_OUTPUT_LINES + 1);
  expect(lines[lines.length - 1]).toBe('  … 5 more lines');
  expect(itemLines({ type: 'commandExecution', id: 'd', command: 'x', exitCode: null, status: 'declined', durationMs: null, aggregatedOutput: null })).toEqual(['[command] x → declined']);
});

test('file changes, tools, plans and unknown items', () => {
  const changes = [
    { path: '/w/a.ts', kind: { type: 'add' }, diff: '' },
    { path: '/w/b.ts', kind: { type: 'update', move_path: '/w/c.ts' }, diff: '' },
    { path: '/w/d.ts', kind: { type: 'delete' }, diff: '' },
  ];
  expect(itemLines({ type: 'fileChange', id: 'f', changes, status: 'completed' })).toEqual(['[file change] add /w/a.ts', '[file change] update /w/b.ts → /w/c.ts', '[file change] delete /w/d.ts']);
  expect(itemLines({ type: 'fileChange', id: 'g', changes: changes.slice(0, 1), status: 'declined' })).toEqual(['[file change] add /w/a.ts (declined)']);
  expect(itemLines({ type: 'mcpToolCall', id: 't', server: 'docs', tool: 'search', arguments: { q: 'x' }, status: 'completed', durationMs: 300, error: null })).toEqual([
    '[tool] docs.search {"q":"x"} → completed (0.3 s)',
  ]);
  expect(itemLines({ type: 'mcpToolCall', id: 'u', server: 'docs', tool: 'get', arguments: null, status: 'failed', durationMs: null, error: { message: 'no\nsuch' } })).toEqual([
    '[tool] docs.get → failed no\\nsuch',
  ]);
  expect(itemLines({ type: 'plan', id: 'p', text: '1. read\n2. write' })).toEqual(['[plan] 1. read', '2. write']);
  expect(itemLines({ type: 'userMessage', id: 'u', content: [] })).toEqual([]);
  expect(itemLines({ type: 'imageView\x1b[2J', id: 'i' })).toEqual(['[item] imageView']);
  expect(itemLines({})).toEqual(['[item] ?']);
});

test('an item already shown is not shown again', () => {
  const done = { method: 'item/completed', params: { item: { type: 'agentMessage', id: 'm1', text: 'once' } } };
  expect(fold([turn('t'), done, done, { method: 'item/agentMessage/delta', params: { itemId: 'm1', delta: 'once' } }]).lines).toEqual(['once']);
});

test('a failed turn: one [error] line, a one-line errorSummary, recognised causes named', () => {
  const failed = (message: string) => ({ method: 'turn/completed', params: { turn: { id: 't', status: 'failed', error: { message }, durationMs: 2000 } } });
  const error = (message: string, willRetry: boolean) => ({ method: 'error', params: { error: { message }, willRetry } });
  const a = fold([turn('t'), error('Reconnecting 1/5', true), error('stream disconnected: error sending request', false), failed('stream disconnected: error sending request')]);
  expect(a.lines).toEqual(['[retrying] Reconnecting 1/5', '[error] stream disconnected: error sending request', '[result] failed tokens in=0 out=0 (2.0 s)']);
  expect(a.ends).toEqual([{ turnId: 't', outcome: 'failed', errorSummary: 'the model server could not be reached' }]);
  const b = fold([turn('t'), failed('quota\x1b[2J exceeded\nsecond line')]);
  expect(b.lines).toEqual(['[result] failed tokens in=0 out=0 (2.0 s)', '[error] quota exceeded', 'second line']);
  expect(b.ends).toEqual([{ turnId: 't', outcome: 'failed', errorSummary: 'quota exceeded' }]);
});

test('hostile shapes never throw', () => {
  const f = new CodexItemFormatter();
  for (const params of [undefined, null, 5, 'x', [], { item: 7 }, { turn: null }, { tokenUsage: { total: 'x' } }]) {
    for (const method of ['item/completed', 'turn/started', 'turn/completed', 'thread/tokenUsage/updated', 'error', 'warning', 'configWarning', 'whatever']) {
      expect(() => f.notification(method, params)).not.toThrow();
    }
  }
});

test("Codex's warnings are shown, except config warnings (stderr already has them)", () => {
  const f = new CodexItemFormatter();
  expect(f.notification('warning', { message: 'model\x1b[2J rerouted' }).lines).toEqual(['[warning] model rerouted']);
  expect(f.notification('configWarning', { summary: 'no bubblewrap', details: null }).lines).toEqual([]);
});
