/** The JSON-RPC-over-lines client of the Codex app-server driver, against a peer written by hand. */
import { JsonRpcLineClient, RpcError, RpcErrorCode, RpcUnanswered } from '../../src/worker/drivers/jsonRpcLines';
import { CUT_MARK } from '../../src/shared/sanitize';

interface Peer {
  client: JsonRpcLineClient;
  /** What the client wrote, one parsed message per line. */
  sent: any[];
  notifications: Array<[string, unknown]>;
  problems: string[];
}

function peer(request: (method: string, params: unknown) => unknown = () => ({ ok: true })): Peer {
  const p: Peer = { client: undefined as unknown as JsonRpcLineClient, sent: [], notifications: [], problems: [] };
  p.client = new JsonRpcLineClient(
    (line) => {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.indexOf('\n')).toBe(line.length - 1); // one message, one line
      p.sent.push(JSON.parse(line));
    },
    { notification: (m, params) => p.notifications.push([m, params]), request, problem: (what) => p.problems.push(what) },
  );
  return p;
}

/** Lets promise callbacks run (answers to server requests are sent from one). */
const settled = () => new Promise<void>((r) => setImmediate(r));

test('answers are matched to their requests by id, in any order', async () => {
  const p = peer();
  const a = p.client.request('thread/start', { x: 1 }, { timeoutMs: 60_000 });
  const b = p.client.request('turn/start', { y: 2 }, { timeoutMs: 60_000 });
  expect(p.sent).toEqual([
    { id: 1, method: 'thread/start', params: { x: 1 } },
    { id: 2, method: 'turn/start', params: { y: 2 } },
  ]);
  expect(p.client.pendingCount).toBe(2);
  p.client.receive(JSON.stringify({ id: 2, result: { turn: 'b' } }));
  p.client.receive(JSON.stringify({ id: 1, result: { thread: 'a' } }));
  await expect(a).resolves.toEqual({ thread: 'a' });
  await expect(b).resolves.toEqual({ turn: 'b' });
  expect(p.client.pendingCount).toBe(0);
});

test('an error answer rejects with its code and message', async () => {
  const p = peer();
  const a = p.client.request('turn/steer', {}, { timeoutMs: 60_000 });
  p.client.receive(JSON.stringify({ id: 1, error: { code: -32600, message: 'no active turn' } }));
  const err = await a.catch((e) => e);
  expect(err).toBeInstanceOf(RpcError);
  expect(err).toMatchObject({ code: -32600, message: 'no active turn' });
});

test('a request without an answer fails after its own named timeout', async () => {
  jest.useFakeTimers();
  try {
    const p = peer();
    const a = p.client.request('initialize', {}, { timeoutMs: 5_000, what: 'initialize' });
    jest.advanceTimersByTime(4_999);
    expect(p.client.pendingCount).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(a).rejects.toThrow(new RpcUnanswered('initialize: no answer within 5000 ms'));
    expect(p.client.pendingCount).toBe(0);
    // A late answer is reported, not mistaken for a later request's.
    p.client.receive(JSON.stringify({ id: 1, result: {} }));
    expect(p.problems).toEqual(['an answer to no pending request (id "1")']);
  } finally {
    jest.useRealTimers();
  }
});

test('notifications reach the handler with their params', () => {
  const p = peer();
  p.client.receive(JSON.stringify({ method: 'turn/started', params: { turn: { id: 't' } } }));
  p.client.receive(JSON.stringify({ method: 'initialized' }));
  expect(p.notifications).toEqual([
    ['turn/started', { turn: { id: 't' } }],
    ['initialized', undefined],
  ]);
  p.client.notify('initialized');
  expect(p.sent).toEqual([{ method: 'initialized' }]);
});

test("a server request is answered with the handler's result, sync or async, string ids kept", async () => {
  const p = peer(async (method) => ({ decision: method === 'a' ? 'accept' : 'decline' }));
  p.client.receive(JSON.stringify({ id: 7, method: 'a', params: {} }));
  p.client.receive(JSON.stringify({ id: 'x8', method: 'b', params: {} }));
  await settled();
  expect(p.sent).toEqual([
    { id: 7, result: { decision: 'accept' } },
    { id: 'x8', result: { decision: 'decline' } },
  ]);
});

test('a server request the handler does not serve gets an error answer, never silence', async () => {
  const p = peer((method) => {
    if (method === 'throws') throw new Error('boom');
    if (method === 'rejects') return Promise.reject(new Error('async boom'));
    throw new RpcError(RpcErrorCode.methodNotFound, `no ${method}`);
  });
  p.client.receive(JSON.stringify({ id: 1, method: 'item/tool/requestUserInput', params: {} }));
  p.client.receive(JSON.stringify({ id: 2, method: 'throws' }));
  p.client.receive(JSON.stringify({ id: 3, method: 'rejects' }));
  await settled();
  expect(p.sent).toEqual([
    { id: 1, error: { code: -32601, message: 'no item/tool/requestUserInput' } },
    { id: 2, error: { code: -32603, message: 'boom' } },
    { id: 3, error: { code: -32603, message: 'async boom' } },
  ]);
});

test('hostile lines are reported and skipped; the next good line still works', async () => {
  const p = peer();
  const a = p.client.request('x', {}, { timeoutMs: 60_000 });
  for (const bad of ['{"id": 1, "result": ', 'null', '[1,2]', '"text"', '{"id": 1}', '{"jsonrpc": "2.0"}', 'x'.repeat(500)]) p.client.receive(bad);
  p.client.receive('{"id":1,"result":{"pa' + CUT_MARK); // the session's splitter cut an over-long line
  p.client.receive('');
  expect(p.problems).toEqual([
    'not JSON: "{\\"id\\": 1, \\"result\\": "',
    'not a JSON-RPC message: "null"',
    'not a JSON-RPC message: "[1,2]"',
    'not a JSON-RPC message: "\\"text\\""',
    'not a JSON-RPC message: "{\\"id\\": 1}"',
    'not a JSON-RPC message: "{\\"jsonrpc\\": \\"2.0\\"}"',
    `not JSON: "${'x'.repeat(120)}…"`,
    expect.stringMatching(/^a line longer than the limit was dropped: /),
  ]);
  expect(p.client.pendingCount).toBe(1);
  p.client.receive(JSON.stringify({ id: 1, result: 'fine' }));
  await expect(a).resolves.toBe('fine');
});

test('close fails every pending request with the reason, and any later one at once', async () => {
  const p = peer();
  const a = p.client.request('turn/start', {}, { timeoutMs: 60_000, what: 'turn/start' });
  p.client.close('the app-server exited (code 1)');
  await expect(a).rejects.toThrow(new RpcUnanswered('the app-server exited (code 1)'));
  await expect(p.client.request('turn/steer', {}, { timeoutMs: 60_000 })).rejects.toThrow(new RpcUnanswered('turn/steer: the app-server exited (code 1)'));
  // Nothing more is written or dispatched after close.
  p.client.notify('initialized');
  p.client.receive(JSON.stringify({ method: 'turn/started' }));
  expect(p.sent).toHaveLength(1);
  expect(p.notifications).toEqual([]);
});
