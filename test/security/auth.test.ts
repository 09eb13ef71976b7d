/**
 * Who gets in: the bearer token on every MCP endpoint (and nowhere else, never
 * from the query string), /health saying nothing without it, the default bind
 * address, and the DNS-rebinding guard on Host and Origin in both directions
 * (the defaults refuse what ALLOWED_HOSTS / ALLOWED_ORIGINS would admit, and a
 * server configured with them admits exactly those).
 */
import fs from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, until } from '../helpers/server';
import { RawMcp, type RawSse, expectNormalSession, finish, initializeBody, mcpPostHeaders, openSse, portOf, rawSocket, request, sseBarrier, startSecurityServer, statusOf } from './support';

let server: RunningServer;
let client: Client;
let mcp: RawMcp;
let sse: RawSse;

beforeAll(async () => {
  // HOST unset (an empty value means "default"): the bind address is the server's own choice.
  server = await startSecurityServer({ HOST: '' });
  client = await connect(server, 'http');
  mcp = await RawMcp.open(server);
  sse = await openSse(server, { authorization: `Bearer ${server.token}` });
});

afterAll(async () => {
  sse?.close();
  await mcp?.close();
  await finish(server, [client]);
});

/** Listening sockets on `port` from /proc/net/tcp{,6}: their local addresses in the kernel's hex form. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[3] === '0A' && cols[1].endsWith(':' + hexPort)) out.push(cols[1]);
    }
  }
  return out;
}

test('binds to 127.0.0.1 by default, and only there', () => {
  expect(new URL(server.url).hostname).toBe('127.0.0.1');
  expect(listeners(portOf(server))).toEqual([`0100007F:${portOf(server).toString(16).toUpperCase().padStart(4, '0')}`]);
  expect(server.stderr()).not.toMatch(/every interface/);
});

// ---- the token ---------------------------------------------------------------------------

/** Every way of almost presenting the token. None may get in. */
function wrongCredentials(token: string): Array<[string, Record<string, string | string[]>, string?]> {
  const flipped = token.replace(/[a-z]/, (c) => c.toUpperCase());
  return [
    ['no Authorization header', {}],
    ['empty Authorization header', { authorization: '' }],
    ['"Bearer" and nothing else', { authorization: 'Bearer' }],
    ['"Bearer " and an empty token', { authorization: 'Bearer ' }],
    ['Basic with user:token', { authorization: `Basic ${Buffer.from(`agentvisor:${token}`).toString('base64')}` }],
    ['Basic with the bare token', { authorization: `Basic ${token}` }],
    ['another scheme (Token)', { authorization: `Token ${token}` }],
    ['the token without a scheme', { authorization: token }],
    ['"Bearer:" glued to the token', { authorization: `Bearer:${token}` }],
    ['"Bearer=" glued to the token', { authorization: `Bearer=${token}` }],
    ['the token with an extra character', { authorization: `Bearer ${token}x` }],
    ['an extra character before the token', { authorization: `Bearer x${token}` }],
    ['the token minus its last character', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['the token upper-cased', { authorization: `Bearer ${token.toUpperCase()}` }],
    ['one letter of the token in the other case', { authorization: `Bearer ${flipped}` }],
    ['the token twice', { authorization: `Bearer ${token} ${token}` }],
    ['the token followed by a comma', { authorization: `Bearer ${token},` }],
    ['the token in quotes', { authorization: `Bearer "${token}"` }],
    ['the token base64-encoded', { authorization: `Bearer ${Buffer.from(token).toString('base64')}` }],
    ['the token percent-encoded', { authorization: `Bearer ${token.replace(/-/g, '%2D')}` }],
    ['the right token only in a second Authorization header', { authorization: ['Bearer wrong-token-0000000000000000', `Bearer ${token}`] }],
    ['the token in Proxy-Authorization', { 'proxy-authorization': `Bearer ${token}` }],
    ['the token in a cookie', { cookie: `token=${token}; access_token=${token}` }],
    ['the token in X-Api-Key', { 'x-api-key': token }],
    ['the token in ?token=', {}, `token=${encodeURIComponent(token)}`],
    ['the token in ?access_token=', {}, `access_token=${encodeURIComponent(token)}`],
    ['the header in ?authorization=', {}, `authorization=${encodeURIComponent(`Bearer ${token}`)}`],
  ];
}

interface Endpoint {
  name: string;
  method: string;
  path: () => string;
  headers: () => Record<string, string>;
  body?: () => string;
}

const endpoints: Endpoint[] = [
  { name: 'GET /sse', method: 'GET', path: () => '/sse', headers: () => ({ accept: 'text/event-stream' }) },
  {
    name: 'POST /messages',
    method: 'POST',
    path: () => `/messages?sessionId=${sse.sessionId}`,
    headers: () => ({ 'content-type': 'application/json' }),
    body: () => JSON.stringify({ jsonrpc: '2.0', id: 'unauthorized-post', method: 'tools/list' }),
  },
  {
    name: 'POST /mcp (initialize)',
    method: 'POST',
    path: () => '/mcp',
    headers: () => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }),
    body: () => JSON.stringify(initializeBody()),
  },
  {
    name: 'POST /mcp (in a session)',
    method: 'POST',
    path: () => '/mcp',
    headers: () => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': mcp.sessionId }),
    body: () => JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
  },
  { name: 'GET /mcp', method: 'GET', path: () => '/mcp', headers: () => ({ accept: 'text/event-stream', 'mcp-session-id': mcp.sessionId }) },
  { name: 'DELETE /mcp', method: 'DELETE', path: () => '/mcp', headers: () => ({ 'mcp-session-id': mcp.sessionId }) },
  // The operator endpoints behind the same token: a failure to refuse here would stop the server.
  { name: 'POST /admin/stop', method: 'POST', path: () => '/admin/stop', headers: () => ({ 'content-type': 'application/json' }), body: () => '{"killSessions":true}' },
  { name: 'POST /admin/token/rotate', method: 'POST', path: () => '/admin/token/rotate', headers: () => ({}) },
];

test('every MCP endpoint refuses every wrong credential with 401 and WWW-Authenticate: Bearer', async () => {
  const cases = wrongCredentials(server.token);
  let tried = 0;
  for (const ep of endpoints) {
    for (const [what, creds, query] of cases) {
      const path = ep.path() + (query ? (ep.path().includes('?') ? '&' : '?') + query : '');
      const res = await request(server, { method: ep.method, path, headers: { ...ep.headers(), ...creds }, body: ep.body?.() });
      const where = `${ep.name} with ${what}`;
      expect({ where, status: res.status }).toEqual({ where, status: 401 });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
      expect(res.text).not.toContain(server.token);
      expect(res.json).toEqual({ error: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') });
      tried++;
    }
  }
  expect(tried).toBe(endpoints.length * cases.length);
  // None of it had an effect: the DELETEs did not end the session, the POST to /messages reached no server.
  expect((await mcp.request('tools/list')).result.tools.length).toBeGreaterThan(0);
  await sseBarrier(server, sse);
  expect(sse.messages.filter((m) => m.id === 'unauthorized-post')).toEqual([]);
  expect(sse.isEnded()).toBe(false);
  expect(server.proc.exitCode).toBeNull();
});

test('the scheme is case-insensitive (RFC 7235) and whitespace around the token is tolerated', async () => {
  const variants = [`Bearer ${server.token}`, `bearer ${server.token}`, `BEARER ${server.token}`, `Bearer    ${server.token}`, `Bearer\t${server.token}`, `Bearer ${server.token}  `];
  for (const authorization of variants) {
    const res = await request(server, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpPostHeaders(server.token, mcp.sessionId), authorization },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
      readStream: true,
    });
    expect({ authorization: authorization.replace(server.token, '<token>'), status: res.status }).toEqual({
      authorization: authorization.replace(server.token, '<token>'),
      status: 200,
    });
  }
});

test('/health without the token says only that the server is up; with it, the details', async () => {
  const bare = await request(server, { path: '/health' });
  expect(bare.status).toBe(200);
  expect(bare.json).toEqual({ status: 'ok' });
  for (const [what, creds, query] of wrongCredentials(server.token)) {
    const res = await request(server, { path: '/health' + (query ? `?${query}` : ''), headers: creds });
    expect({ what, body: res.json }).toEqual({ what, body: { status: 'ok' } });
  }
  const detailed = await request(server, { path: '/health', headers: { authorization: `Bearer ${server.token}` } });
  expect(detailed.json).toMatchObject({ status: 'ok', version: expect.any(String), sessions: expect.any(Object), connections: expect.any(Number) });
});

test('no route answers without the token, however the path is spelled', async () => {
  const paths = [
    '/sse/',
    '/SSE',
    '/Sse',
    '//sse',
    '/./sse',
    '/sse;x',
    '/sse%00',
    '/%73se',
    '/sse?sessionId=x',
    '/mcp/',
    '/MCP',
    '//mcp',
    '/./mcp',
    '/x/../mcp',
    '/mcp%2f',
    '/%6dcp',
    '/mcp;jsessionid=1',
    '/mcp#x',
    '/messages/',
    '/MESSAGES',
    '/messages?sessionId=',
    '/health/../sse',
    '/health/../mcp',
  ];
  for (const p of paths) {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await request(server, {
        method,
        path: p,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: method === 'POST' ? JSON.stringify(initializeBody()) : undefined,
      });
      expect({ p, method, ok: res.status === 401 || res.status === 404 }).toEqual({ p, method, ok: true });
    }
  }
});

// ---- DNS rebinding ---------------------------------------------------------------------------

/** 403 = the guard refused; 400 = passed guard and auth, refused only for the missing session (nothing created). */
async function guarded(headers: Record<string, string>): Promise<number> {
  const res = await request(server, {
    method: 'POST',
    path: '/mcp',
    headers: { ...mcpPostHeaders(server.token), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  if (res.status === 403) expect(res.json.message).toMatch(/ALLOWED_HOSTS|ALLOWED_ORIGINS/);
  return res.status;
}

function refusedHosts(port: number): string[] {
  return [
    'evil.example',
    `evil.example:${port}`,
    `localhost.evil.example:${port}`,
    `127.0.0.1.nip.io:${port}`,
    `localtest.me:${port}`,
    `127.0.0.2:${port}`,
    `0.0.0.0:${port}`,
    `[::2]:${port}`,
    `localhost.:${port}`,
    `2130706433:${port}`,
    `0x7f000001:${port}`,
    `127.1:${port}`,
    `[::ffff:127.0.0.1]:${port}`,
    `[::1:${port}`,
    `localhost@evil.example`,
    `evil.example#localhost`,
    `agentvisor.internal:${port}`,
    'xn--lcalhost-9za',
  ];
}

test('a Host that is not ours is refused with 403, even with the token', async () => {
  const port = portOf(server);
  for (const host of refusedHosts(port)) expect({ host, status: await guarded({ host }) }).toEqual({ host, status: 403 });
  for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
    expect({ host, status: await guarded({ host }) }).toEqual({ host, status: 400 });
  }
});

test('a request with no Host, an empty one or two of them is refused', async () => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
  const head = (hostLines: string, version = '1.1') =>
    `POST /mcp HTTP/${version}\r\n${hostLines}Authorization: Bearer ${server.token}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  const port = portOf(server);
  expect(statusOf(await rawSocket(server, head('', '1.0')))).toBe(403); // HTTP/1.0 may omit Host
  expect(statusOf(await rawSocket(server, head('Host: \r\n')))).toBe(403);
  expect(statusOf(await rawSocket(server, head('')))).toBe(400); // HTTP/1.1 without Host: Node refuses it itself
  // Node keeps the first of two Host headers; a browser never sends two, and the first one decides.
  expect(statusOf(await rawSocket(server, head(`Host: evil.example\r\nHost: 127.0.0.1:${port}\r\n`)))).toBe(403);
  expect(statusOf(await rawSocket(server, head(`Host: 127.0.0.1:${port}\r\n`)))).toBe(400); // the control: guard passed, no session
});

test('an Origin that is not ours is refused with 403; ours and no Origin at all pass', async () => {
  const port = portOf(server);
  const refused = [
    'http://evil.example',
    `http://evil.example:${port}`,
    'null',
    '',
    `http://localhost:${port + 1}`,
    `http://localhost`,
    `https://localhost.evil.example:${port}`,
    `http://127.0.0.1:${port}.evil.example`,
    `http://localhost:${port}/`,
    `HTTP://LOCALHOST:${port}`,
    'file://',
    `ws://localhost:${port}`,
    'https://app.example.com',
    `http://[::2]:${port}`,
  ];
  for (const origin of refused) expect({ origin, status: await guarded({ origin }) }).toEqual({ origin, status: 403 });
  for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`, `https://localhost:${port}`]) {
    expect({ origin, status: await guarded({ origin }) }).toEqual({ origin, status: 400 });
  }
  expect(await guarded({})).toBe(400);
});

test('HOST=0.0.0.0 works but warns; ALLOWED_HOSTS and ALLOWED_ORIGINS admit exactly what they list', async () => {
  const wide = await startSecurityServer({
    HOST: '0.0.0.0',
    ALLOWED_HOSTS: 'agentvisor.internal, Box.LAN',
    ALLOWED_ORIGINS: 'https://app.example.com',
  });
  try {
    const port = portOf(wide);
    expect(listeners(port)).toEqual([`00000000:${port.toString(16).toUpperCase().padStart(4, '0')}`]);
    expect(wide.stderr()).toMatch(/HOST=0\.0\.0\.0 listens on every interface/);
    // The log file is written asynchronously: wait for the line rather than race it.
    const logFile = `${wide.dirs.stateDir}/logs/agentvisor.log`;
    await until(() => fs.existsSync(logFile) && /"level":"warn".*every interface|every interface.*"level":"warn"/.test(fs.readFileSync(logFile, 'utf8')), 5_000, 'the warning in the log file');
    const status = async (headers: Record<string, string>) =>
      (
        await request(wide, {
          method: 'POST',
          path: '/mcp',
          headers: { ...mcpPostHeaders(wide.token), ...headers },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        })
      ).status;
    // Admitted here (guard passed: 400 for the missing session) …
    expect(await status({ host: `agentvisor.internal:${port}` })).toBe(400);
    expect(await status({ host: 'box.lan' })).toBe(400);
    expect(await status({ host: `127.0.0.1:${port}` })).toBe(400);
    expect(await status({ origin: 'https://app.example.com' })).toBe(400);
    expect(await status({ host: `agentvisor.internal:${port}`, origin: `http://agentvisor.internal:${port}` })).toBe(400);
    // … while everything else is still refused …
    expect(await status({ host: 'evil.example' })).toBe(403);
    expect(await status({ host: 'agentvisor.internal.evil.example' })).toBe(403);
    expect(await status({ origin: 'https://app.example.com.evil.example' })).toBe(403);
    expect(await status({ origin: 'http://app.example.com' })).toBe(403);
    // … and the default server refuses the names this one was configured with.
    expect(await guarded({ host: `agentvisor.internal:${portOf(server)}` })).toBe(403);
    expect(await guarded({ host: 'box.lan' })).toBe(403);
    expect(await guarded({ origin: 'https://app.example.com' })).toBe(403);
  } finally {
    await finish(wide);
  }
});

test('after all that, the default server still serves a normal session end to end', async () => {
  expect((await call(client, 'session_list')).sessions).toEqual([]);
  await expectNormalSession(client);
});
