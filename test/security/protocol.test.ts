/**
 * What arrives in a POST, on both transports: bodies over the limit (plain,
 * chunked, lying about their length, compression bombs), malformed JSON,
 * well-formed JSON that is not JSON-RPC, hostile JSON (deep nesting,
 * prototype keys, huge keys), wrong content types, batches, and session ids
 * that do not exist. Each gets a proper JSON-RPC error (or HTTP status), and
 * the same sessions keep working afterwards.
 */
import zlib from 'node:zlib';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect } from '../helpers/server';
import { RawMcp, type RawSse, bearer, expectNormalSession, finish, initializeBody, mcpPostHeaders, messagesOf, openSse, rawSocket, request, startSecurityServer, statusOf } from './support';

let server: RunningServer;
let sseClient: Client;
let httpClient: Client;
let mcp: RawMcp;
let sse: RawSse;

beforeAll(async () => {
  server = await startSecurityServer();
  sseClient = await connect(server, 'sse');
  httpClient = await connect(server, 'http');
  mcp = await RawMcp.open(server);
  sse = await openSse(server, bearer(server.token));
  // The raw SSE connection completes the MCP handshake so its later messages are real requests.
  await postSse({ ...initializeBody(1) });
  await postSse({ jsonrpc: '2.0', method: 'notifications/initialized' });
});

afterAll(async () => {
  sse?.close();
  await mcp?.close();
  await finish(server, [sseClient, httpClient]);
});

function postSse(body: unknown, headers: Record<string, string> = {}, sessionId = sse.sessionId) {
  return request(server, {
    method: 'POST',
    path: `/messages?sessionId=${encodeURIComponent(String(sessionId))}`,
    headers: { ...bearer(server.token), 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

/** Both transports still answer a request, each on its own session. */
async function bothStillWork(): Promise<void> {
  expect((await mcp.request('ping')).result).toEqual({});
  const id = `alive-${Math.random()}`;
  expect((await postSse({ jsonrpc: '2.0', id, method: 'ping' })).status).toBe(202);
  await waitForSse(id);
}

async function waitForSse(id: unknown): Promise<any> {
  const end = Date.now() + 5_000;
  while (Date.now() < end) {
    const m = sse.messages.find((x) => x.id === id);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no SSE reply with id ${String(id)}`);
}

const MB = 1024 * 1024;

test('bodies over 1 MB are refused with 413 and a JSON-RPC error, on both transports', async () => {
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(MB) } });
  const viaMcp = await mcp.post(big);
  expect(viaMcp.status).toBe(413);
  expect(viaMcp.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, message: expect.stringContaining('larger than') } });
  const viaSse = await postSse(big);
  expect(viaSse.status).toBe(413);
  expect(viaSse.json.error.code).toBe(-32600);
  // A header claiming 5 GB is refused before a byte of the body is read, and the connection closed.
  const t0 = Date.now();
  const claimed = await rawSocket(
    server,
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.token}\r\nContent-Type: application/json\r\n` + `Content-Length: 5000000000\r\n\r\n{`,
  );
  expect(statusOf(claimed)).toBe(413);
  expect(claimed).toMatch(/connection: close/i);
  expect(Date.now() - t0).toBeLessThan(2_000);
  // Chunked, with no length up front: cut off at the limit.
  const chunks = Array.from({ length: 24 }, () => 'x'.repeat(64 * 1024));
  const chunked = await rawSocket(
    server,
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.token}\r\nContent-Type: application/json\r\n` +
      `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
      chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('') +
      '0\r\n\r\n',
  );
  expect(statusOf(chunked)).toBe(413);
  // Just under the limit is parsed and answered normally (here: the path is too long for the tool).
  const under = await mcp.callTool('read_file', { path: 'p'.repeat(900_000) });
  expect(under.result.isError).toBe(true);
  expect(under.result.content[0].text).toMatch(/path/);
  await bothStillWork();
});

test('compression bombs are measured after inflating and refused without exhausting memory', async () => {
  const rssBefore = (await request(server, { path: '/health', headers: bearer(server.token) })).json.rssMB;
  const payload = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'a'.repeat(32 * MB) } }));
  const brotli = (b: Buffer) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
  for (const [encoding, compress] of [
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', brotli],
  ] as const) {
    const bomb = compress(payload);
    expect(bomb.length).toBeLessThan(MB); // small on the wire …
    const res = await mcp.post(bomb, { 'content-encoding': encoding });
    expect({ encoding, status: res.status }).toEqual({ encoding, status: 413 }); // … and refused once it grows past 1 MB
  }
  const unknown = await mcp.post('{}', { 'content-encoding': 'x-evil' });
  expect(unknown.status).toBe(415);
  expect(unknown.json.error.code).toBe(-32600);
  const rssAfter = (await request(server, { path: '/health', headers: bearer(server.token) })).json.rssMB;
  // The authenticated /health always reports rssMB: a missing figure is a failure, not a pass.
  expect([typeof rssBefore, typeof rssAfter]).toEqual(['number', 'number']);
  expect(rssAfter - rssBefore).toBeLessThan(64);
  await bothStillWork();
});

/** Bodies that are not JSON at all, or JSON that is not one JSON-RPC message. */
const badBodies: Array<[string, string | Buffer, number]> = [
  ['an unterminated object', '{', -32700],
  ['a cut-off message', '{"jsonrpc":"2.0","id":1,"method":"pi', -32700],
  ['trailing garbage', '{"jsonrpc":"2.0","id":1,"method":"ping"}x', -32700],
  ['a bare string', '"ping"', -32700],
  ['a bare number', '42', -32700],
  ['true', 'true', -32700],
  ['null', 'null', -32700],
  ['NaN', '{"jsonrpc":"2.0","id":NaN,"method":"ping"}', -32700],
  ['single quotes', "{'jsonrpc':'2.0','id':1,'method':'ping'}", -32700],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), -32600],
  ['an empty object', '{}', -32600],
  ['JSON-RPC 1.0', '{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600],
  ['no method, no result', '{"jsonrpc":"2.0","id":1}', -32600],
  ['a numeric method', '{"jsonrpc":"2.0","id":1,"method":5}', -32600],
  ['an object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600],
  ['an array id', '{"jsonrpc":"2.0","id":[1],"method":"ping"}', -32600],
  ['params as a string', '{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', -32600],
  ['an empty batch', '[]', -32600],
  ['a batch with garbage in it', '[{"jsonrpc":"2.0","id":1,"method":"ping"},5]', -32600],
  ['100 000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), -32600],
  ['100 000 nested objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), -32600],
];

test('malformed JSON and invalid JSON-RPC get a JSON-RPC error on /mcp, and the session keeps working', async () => {
  for (const [what, body, code] of badBodies) {
    const res = await mcp.post(body);
    expect({ what, status: res.status, code: res.json?.error?.code, jsonrpc: res.json?.jsonrpc }).toEqual({ what, status: 400, code, jsonrpc: '2.0' });
    expect(res.json.id).toBeNull();
  }
  // The same without a session: the body is judged before the missing session id.
  for (const [what, body, code] of badBodies.slice(0, 6)) {
    const res = await request(server, { method: 'POST', path: '/mcp', headers: mcpPostHeaders(server.token), body });
    expect({ what, status: res.status, code: res.json?.error?.code }).toEqual({ what, status: 400, code });
  }
  await bothStillWork();
});

test('malformed JSON and invalid JSON-RPC get a JSON-RPC error on /messages, and the SSE connection keeps working', async () => {
  for (const [what, body, code] of badBodies) {
    const res = await postSse(body);
    expect({ what, status: res.status, code: res.json?.error?.code }).toEqual({ what, status: 400, code });
  }
  // Batches are a Streamable HTTP feature; here they are refused as such.
  const batch = await postSse([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
  expect(batch.status).toBe(400);
  expect(batch.json.error.message).toMatch(/batch/);
  expect(sse.isEnded()).toBe(false);
  await bothStillWork();
});

test('wrong or empty content types are refused with 415 on both transports', async () => {
  const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
  for (const ct of ['', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/json; charset=evil-1']) {
    const viaMcp = await mcp.post(ping, { 'content-type': ct });
    const viaSse = await postSse(ping, { 'content-type': ct });
    expect({ ct, mcp: viaMcp.status, sse: viaSse.status }).toEqual({ ct, mcp: 415, sse: 415 });
    expect(viaSse.json?.error?.code ?? viaSse.json?.error).toBeDefined();
  }
  await bothStillWork();
});

test('hostile but well-formed messages are answered with errors, not crashes', async () => {
  // Prototype keys in tool arguments: refused as unknown keys, nothing polluted.
  const proto = await mcp.post(
    '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"a","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}}}',
  );
  const protoReply = messagesOf(proto).find((m) => m.id === 11);
  expect(protoReply.result.isError).toBe(true);
  expect(protoReply.result.content[0].text).toMatch(/Unrecognized key|constructor|__proto__/);
  // An unknown method, a huge method name, a key with 100 000 siblings, deep nesting inside valid params.
  expect((await mcp.request('evil/method')).error.code).toBe(-32601);
  const long = await mcp.request('x'.repeat(500_000));
  expect(long.error.code).toBe(-32601);
  expect(JSON.stringify(long).length).toBeLessThan(10_000); // the name is not echoed back
  const wide = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
  expect((await mcp.request('ping', { _meta: wide })).result).toEqual({});
  const deep = await mcp.post(`{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"read_file","arguments":{"path":${'['.repeat(50_000)}${']'.repeat(50_000)}}}}`);
  expect(messagesOf(deep).find((m) => m.id === 13).result.isError).toBe(true);
  // A batch over the SDK's cap, and an initialize smuggled into a live session.
  const tooMany = await mcp.post(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' })));
  expect(tooMany.status).toBe(400);
  const reinit = await mcp.post(initializeBody(12));
  expect(reinit.status).toBe(400);
  expect(reinit.json.error.code).toBe(-32600);
  // A response to a request the server never made, and a notification nobody knows.
  expect((await mcp.post({ jsonrpc: '2.0', id: 999_999, result: {} })).status).toBeLessThan(500);
  expect((await mcp.post({ jsonrpc: '2.0', method: 'notifications/evil', params: { x: 1 } })).status).toBe(202);
  // A valid batch still works.
  const pair = messagesOf(
    await mcp.post([
      { jsonrpc: '2.0', id: 'b1', method: 'ping' },
      { jsonrpc: '2.0', id: 'b2', method: 'ping' },
    ]),
  );
  expect(pair.map((m) => m.id).sort()).toEqual(['b1', 'b2']);
  await bothStillWork();
});

test('an SSE sessionId that does not exist is 404; so is any Mcp-Session-Id that does not exist', async () => {
  const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
  const unknownSse = [
    '00000000-0000-4000-8000-000000000000',
    'nope',
    '',
    '../' + sse.sessionId,
    `${sse.sessionId}x`,
    sse.sessionId!.toUpperCase(),
    mcp.sessionId,
    'x'.repeat(8_000),
    `${sse.sessionId}\u0000`,
  ];
  for (const id of unknownSse) {
    const res = await postSse(ping, {}, id);
    expect({ id: id.slice(0, 60), status: res.status }).toEqual({ id: id.slice(0, 60), status: 404 });
    expect(res.json.message).toMatch(/GET \/sse/);
  }
  for (const path of ['/messages', `/messages?sessionId=${sse.sessionId}&sessionId=${sse.sessionId}`, `/messages?sessionId[]=${sse.sessionId}`]) {
    const res = await request(server, { method: 'POST', path, headers: { ...bearer(server.token), 'content-type': 'application/json' }, body: JSON.stringify(ping) });
    expect({ path, status: res.status }).toEqual({ path, status: 404 });
  }
  for (const sid of ['00000000-0000-4000-8000-000000000000', sse.sessionId!, mcp.sessionId.toUpperCase(), `${mcp.sessionId}, ${mcp.sessionId}`]) {
    const res = await request(server, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpPostHeaders(server.token), 'mcp-session-id': sid },
      body: JSON.stringify(ping),
    });
    expect({ sid, status: res.status, code: res.json?.error?.code }).toEqual({ sid, status: 404, code: -32001 });
  }
  const getUnknown = await request(server, { path: '/mcp', headers: { ...bearer(server.token), accept: 'text/event-stream', 'mcp-session-id': 'nope' } });
  expect(getUnknown.status).toBe(404);
  const deleteUnknown = await request(server, { method: 'DELETE', path: '/mcp', headers: { ...bearer(server.token), 'mcp-session-id': sse.sessionId! } });
  expect(deleteUnknown.status).toBe(404);
  // Oversized headers are cut off by Node itself (431), and the server carries on.
  const huge = await request(server, { path: '/health', headers: { 'x-pad': 'y'.repeat(20_000) } });
  expect(huge.status).toBe(431);
  await bothStillWork();
});

test('methods the endpoints do not serve are refused, never routed to a transport', async () => {
  for (const [method, path] of [
    ['PUT', '/mcp'],
    ['PATCH', '/mcp'],
    ['GET', '/messages'],
    ['PUT', '/sse'],
    ['POST', '/sse'],
    ['OPTIONS', '/mcp'],
    ['TRACE', '/mcp'],
  ] as const) {
    const res = await request(server, { method, path, headers: bearer(server.token) });
    expect({ method, path, refused: res.status >= 400 && res.status < 500 }).toEqual({ method, path, refused: true });
    // No CORS pre-flight approval for a browser.
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  }
  await bothStillWork();
});

test('after the abuse, both SDK clients still work and a normal session runs end to end', async () => {
  expect((await sseClient.listTools()).tools.length).toBeGreaterThan(0);
  expect((await call(httpClient, 'session_list')).sessions).toBeDefined();
  await expectNormalSession(sseClient);
  await expectNormalSession(httpClient);
});
