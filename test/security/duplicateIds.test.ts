/**
 * Two requests with the same JSON-RPC id on one connection, the second sent while
 * the first is still in flight: the duplicate gets a clear error and the first
 * is still answered, exactly once, on both transports. Before, the Streamable
 * HTTP transport routed the first reply to the second stream (the first hung),
 * and over SSE the client got two replies with one id.
 */
import http from 'node:http';
import { type RunningServer, until } from '../helpers/server';
import { PROTOCOL_VERSION, RawMcp, finish, mcpPostHeaders, messagesOf, openSse, portOf, request, startSecurityServer } from './support';

let server: RunningServer;
let mcp: RawMcp;
let silent: string;

beforeAll(async () => {
  server = await startSecurityServer();
  mcp = await RawMcp.open(server);
  const started = await mcp.callTool('session_start', { agent: 'codex', cwd: 'dup', task: 'silent' });
  silent = started.result.structuredContent.sessionId;
});

afterAll(async () => {
  await mcp?.close();
  await finish(server);
});

const waitCall = (id: number, timeoutMs: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'session_wait', arguments: { sessionId: silent, timeoutMs } },
});

/** POSTs to /mcp; resolves `headers` once the server has taken the request, `done` with all its messages. */
function postStreaming(body: unknown): { headers: Promise<number>; done: Promise<any[]> } {
  let onHeaders!: (status: number) => void;
  const headers = new Promise<number>((r) => (onHeaders = r));
  const done = new Promise<any[]>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: portOf(server), method: 'POST', path: '/mcp', headers: mcpPostHeaders(server.token, mcp.sessionId), agent: false }, (res) => {
      onHeaders(res.statusCode ?? 0);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(messagesOf({ status: res.statusCode ?? 0, headers: res.headers, text, json: undefined })));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('the first request was never answered')));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  return { headers, done };
}

test('Streamable HTTP: the duplicate id is refused, the first request is still answered', async () => {
  const first = postStreaming(waitCall(7, 1_500));
  expect(await first.headers).toBe(200);
  const dup = await mcp.post({ jsonrpc: '2.0', id: 7, method: 'tools/list' });
  expect(dup.status).toBe(400);
  expect(dup.json.error.message).toMatch(/duplicate request id 7: a request with this id is still in flight on this connection/);
  expect(dup.json.id).toBeNull();
  const replies = (await first.done).filter((m) => m.id === 7);
  expect(replies).toHaveLength(1);
  expect(replies[0].result.structuredContent.timedOut).toBe(true);
  // Answered, the id is free again; a cancelled request frees its id too (no reply ever comes for it).
  expect((await mcp.post({ jsonrpc: '2.0', id: 7, method: 'tools/list' })).status).toBe(200);
  const cancelled = postStreaming(waitCall(8, 60_000));
  // No reply comes for a cancelled request: its stream stays open until the session is deleted in afterAll.
  cancelled.done.catch(() => undefined);
  expect(await cancelled.headers).toBe(200);
  expect((await mcp.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 8 } })).status).toBe(202);
  expect((await mcp.post({ jsonrpc: '2.0', id: 8, method: 'tools/list' })).status).toBe(200);
});

test('Streamable HTTP: a batch that repeats an id is refused whole', async () => {
  const res = await mcp.post([
    { jsonrpc: '2.0', id: 'x', method: 'tools/list' },
    { jsonrpc: '2.0', id: 'x', method: 'tools/list' },
  ]);
  expect(res.status).toBe(400);
  expect(res.json.error.message).toMatch(/duplicate request id "x"/);
  expect((await mcp.post({ jsonrpc: '2.0', id: 'x', method: 'tools/list' })).status).toBe(200);
});

test('SSE: the duplicate id is refused, the first request is answered exactly once', async () => {
  const sse = await openSse(server, { authorization: `Bearer ${server.token}` });
  try {
    const post = (body: unknown) =>
      request(server, {
        method: 'POST',
        path: `/messages?sessionId=${sse.sessionId}`,
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    expect((await post(init)).status).toBe(202);
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    // 202 comes once the request has been handed to the server: it is in flight.
    expect((await post(waitCall(7, 1_500))).status).toBe(202);
    const dup = await post({ jsonrpc: '2.0', id: 7, method: 'tools/list' });
    expect(dup.status).toBe(400);
    expect(dup.json.error.message).toMatch(/duplicate request id 7/);
    await until(() => sse.messages.some((m) => m.id === 7 && m.result?.structuredContent), 10_000, "the first request's reply");
    expect((await post({ jsonrpc: '2.0', id: 9, method: 'tools/list' })).status).toBe(202);
    // A later request on the same stream is a barrier: any other reply with id 7 is here before its reply.
    await until(() => sse.messages.some((m) => m.id === 9), 10_000, "the barrier request's reply");
    const sevens = sse.messages.filter((m) => m.id === 7);
    expect(sevens).toHaveLength(1);
    expect(sevens[0].result.structuredContent.timedOut).toBe(true);
  } finally {
    sse.close();
  }
});
