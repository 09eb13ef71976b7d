/**
 * Streamable HTTP resumability keeps a reply only as long as a reconnect may
 * need it: once the POST response carrying it has been written out, resuming
 * its stream finds nothing (the big reply is gone from memory), while a stream
 * cut short is still resumed and gets its reply. Protocol 2025-11-25, whose
 * POST streams start with a priming event the client can resume from.
 */
import fs from 'node:fs';
import http from 'node:http';
import { type RunningServer, reapLeftovers, startServer } from '../helpers/server';
import { messagesOf, portOf, request } from '../security/support';

const VERSION = '2025-11-25';
let server: RunningServer;
let sid: string;
let nextId = 1;

const headers = (extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${server.token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': VERSION } : {}),
  ...extra,
});
const post = (method: string, params?: object, id: number | null = nextId++) =>
  request(server, { method: 'POST', path: '/mcp', headers: headers(), body: JSON.stringify({ jsonrpc: '2.0', ...(id === null ? {} : { id }), method, params }), readStream: true });
/** The ids of an event stream's events, in order. */
const eventIds = (text: string) => [...text.matchAll(/^id: ?(.+)$/gm)].map((m) => m[1].trim());

beforeAll(async () => {
  server = await startServer();
  const init = await post('initialize', { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'replay-test', version: '1' } });
  sid = String(init.headers['mcp-session-id']);
  expect((await post('notifications/initialized', undefined, null)).status).toBe(202);
});

afterAll(async () => {
  await request(server, { method: 'DELETE', path: '/mcp', headers: headers() }).catch(() => undefined);
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

test('a delivered large page is not kept for replay', async () => {
  const started = messagesOf(await post('tools/call', { name: 'session_start', arguments: { agent: 'codex', cwd: 'big', task: 'wide 1500 1000' } }))[0];
  const sessionId = started.result.structuredContent.sessionId;
  // session_wait answers at the first new output: wait on until all of it is there.
  for (let since = 0, status = 'running'; status === 'running';) {
    const waited = messagesOf(await post('tools/call', { name: 'session_wait', arguments: { sessionId, since, timeoutMs: 10_000 } }))[0];
    ({ status, nextOffset: since } = waited.result.structuredContent);
  }
  const page = await post('tools/call', { name: 'session_output', arguments: { sessionId, since: 0, maxBytes: 1_000_000, limit: 5_000 } });
  expect(page.text.length).toBeGreaterThan(500_000);
  const [priming] = eventIds(page.text);
  expect(priming).toBeDefined();
  // Resuming the delivered stream: nothing is left to replay (before, the page was sent again).
  const resumed = await request(server, { method: 'GET', path: '/mcp', headers: headers({ accept: 'text/event-stream', 'last-event-id': priming }) });
  expect(resumed.status).toBe(400);
});

test('a stream cut short is resumed and gets its reply', async () => {
  const started = messagesOf(await post('tools/call', { name: 'session_start', arguments: { agent: 'codex', cwd: 'cut', task: 'silent' } }))[0];
  const sessionId = started.result.structuredContent.sessionId;
  const id = nextId++;
  // Read the priming event, then drop the connection before the reply.
  const priming = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: portOf(server), method: 'POST', path: '/mcp', headers: headers(), agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        const [first] = eventIds(text);
        if (first) {
          req.destroy();
          resolve(first);
        }
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'session_wait', arguments: { sessionId, timeoutMs: 1_500 } } }));
  });
  const resumed = await request(server, { method: 'GET', path: '/mcp', headers: headers({ accept: 'text/event-stream', 'last-event-id': priming }), readStream: true, timeoutMs: 10_000 });
  expect(resumed.status).toBe(200);
  const replies = messagesOf(resumed).filter((m) => m.id === id);
  expect(replies).toHaveLength(1);
  expect(replies[0].result.structuredContent.timedOut).toBe(true);
  await post('tools/call', { name: 'session_kill', arguments: { sessionId } });
});
