/**
 * A connection belongs to the token it was opened with. The server holds one
 * token at a time, so the way to have "a connection made with another token"
 * is to rotate it (POST /admin/token/rotate, what `agentvisor token --rotate`
 * calls): afterwards the old token opens nothing, the server closes what the
 * old token had open (so a leaked token's streams stop receiving anything),
 * and those connections are not served to the new token either.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, until } from '../helpers/server';
import { type RawSse, bearer, finish, initializeBody, mcpPostHeaders, openSse, request, startSecurityServer } from './support';

let server: RunningServer;
let oldToken: string;
let newToken: string;
const clients: Client[] = [];

beforeAll(async () => {
  // No AUTH_TOKEN: the server generates its token into STATE_DIR/token, which makes it rotatable.
  server = await startSecurityServer({ AUTH_TOKEN: '' });
  oldToken = fs.readFileSync(path.join(server.dirs.stateDir, 'token'), 'utf8').trim();
});

afterAll(async () => {
  await finish(server, clients, { tokens: [oldToken, newToken].filter(Boolean), tokenFileExpected: true });
});

test('the generated token file is private', () => {
  expect(oldToken.length).toBeGreaterThanOrEqual(32);
  expect(fs.statSync(path.join(server.dirs.stateDir, 'token')).mode & 0o777).toBe(0o600);
  expect(fs.statSync(server.dirs.stateDir).mode & 0o777).toBe(0o700);
});

test('rotation needs the current token', async () => {
  for (const headers of [{}, bearer('not-the-token-0123456789abcdef'), bearer(oldToken + 'x'), { authorization: `Basic ${oldToken}` }]) {
    const res = await request(server, { method: 'POST', path: '/admin/token/rotate', headers });
    expect(res.status).toBe(401);
  }
  const stop = await request(server, { method: 'POST', path: '/admin/stop', headers: { 'content-type': 'application/json' }, body: '{"killSessions":true}' });
  expect(stop.status).toBe(401);
  expect(fs.readFileSync(path.join(server.dirs.stateDir, 'token'), 'utf8').trim()).toBe(oldToken);
  expect((await request(server, { path: '/health', headers: bearer(oldToken) })).json.version).toBeDefined();
});

test('after rotation, connections opened with the old token are closed and serve neither token', async () => {
  // Raw connections, not SDK clients: when the server ends their streams the SDK clients keep
  // scheduling reconnects for seconds after close(), which would outlive the test.
  const rawSse: RawSse = await openSse(server, bearer(oldToken));
  const init = await request(server, { method: 'POST', path: '/mcp', headers: mcpPostHeaders(oldToken), body: JSON.stringify(initializeBody()), readStream: true });
  const mcpSession = init.headers['mcp-session-id'] as string;
  expect(mcpSession).toBeDefined();
  // Both work with the old token before the rotation.
  const before = await request(server, {
    method: 'POST',
    path: `/messages?sessionId=${rawSse.sessionId}`,
    headers: { ...bearer(oldToken), 'content-type': 'application/json' },
    body: JSON.stringify(initializeBody('before')),
  });
  expect(before.status).toBe(202);
  await until(() => rawSse.messages.some((m) => m.id === 'before' && m.result), 5_000, 'the initialize reply on the old stream');
  expect(init.status).toBe(200);

  const rotated = await request(server, { method: 'POST', path: '/admin/token/rotate', headers: bearer(oldToken) });
  expect(rotated.status).toBe(200);
  expect(rotated.text).not.toContain(oldToken);
  newToken = fs.readFileSync(path.join(server.dirs.stateDir, 'token'), 'utf8').trim();
  expect(newToken).not.toBe(oldToken);
  expect(rotated.text).not.toContain(newToken);

  const ping = JSON.stringify({ jsonrpc: '2.0', id: 'after-rotation', method: 'ping' });
  const postSse = (token: string) =>
    request(server, { method: 'POST', path: `/messages?sessionId=${rawSse.sessionId}`, headers: { ...bearer(token), 'content-type': 'application/json' }, body: ping });
  const postMcp = (token: string) =>
    request(server, { method: 'POST', path: '/mcp', headers: { ...mcpPostHeaders(token), 'mcp-session-id': mcpSession, 'mcp-protocol-version': '2025-06-18' }, body: ping });

  // The old token is no token at all any more …
  expect((await postSse(oldToken)).status).toBe(401);
  expect((await postMcp(oldToken)).status).toBe(401);
  expect((await request(server, { path: '/sse', headers: bearer(oldToken) })).status).toBe(401);
  expect((await request(server, { path: '/health', headers: bearer(oldToken) })).json).toEqual({ status: 'ok' });
  // … what it had open was closed by the server at the rotation …
  await until(() => rawSse.isEnded(), 3_000, 'the server to close the old SSE stream');
  // … and the new token cannot take any of it over (gone: 404; the per-request check would say 403 before that).
  const sseWithNew = await postSse(newToken);
  expect(sseWithNew.status).toBe(404);
  const mcpWithNew = await postMcp(newToken);
  expect(mcpWithNew.status).toBe(404);
  for (const method of ['GET', 'DELETE']) {
    const res = await request(server, { method, path: '/mcp', headers: { ...bearer(newToken), accept: 'text/event-stream', 'mcp-session-id': mcpSession } });
    expect({ method, status: res.status }).toEqual({ method, status: 404 });
  }
  expect(rawSse.messages.filter((m) => m.id === 'after-rotation')).toEqual([]);
  expect((await request(server, { path: '/health', headers: bearer(newToken) })).json.connections).toBe(0);

  // Clients with the new token work normally.
  const fresh = await connect({ url: server.url, token: newToken }, 'sse');
  clients.push(fresh);
  expect((await call(fresh, 'session_list')).sessions).toEqual([]);
  expect((await request(server, { path: '/health', headers: bearer(newToken) })).json.version).toBeDefined();
});
