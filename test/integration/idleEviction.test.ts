/**
 * SSE_IDLE_TIMEOUT evicts connections nobody uses, never one that is working:
 * a request in flight (a session_wait longer than the timeout) gets its reply
 * over /sse and /mcp, and a Streamable HTTP client that only listens on its GET
 * stream keeps it. Each test opens a bare SSE connection beside the one under
 * test as the witness: its eviction shows the sweep ran meanwhile.
 */
import http from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect } from '../helpers/server';
import { PROTOCOL_VERSION, RawMcp, bearer, finish, openSse, portOf, startSecurityServer } from '../security/support';

const IDLE_MS = 1_000;
let server: RunningServer;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startSecurityServer({ SSE_IDLE_TIMEOUT: String(IDLE_MS) });
});

afterAll(async () => {
  await finish(server, clients);
});

async function waitLongerThanIdle(transport: 'sse' | 'http'): Promise<void> {
  const client = await connect(server, transport);
  clients.push(client);
  const { sessionId } = await call(client, 'session_start', { agent: 'codex', cwd: `idle-${transport}`, task: 'silent' });
  const witness = await openSse(server, bearer(server.token));
  const waited = await call(client, 'session_wait', { sessionId, timeoutMs: 3 * IDLE_MS });
  expect(witness.isEnded()).toBe(true);
  expect(waited.timedOut).toBe(true);
  // The connection is still there for the next call.
  expect((await call(client, 'session_list')).sessions.some((s: any) => s.sessionId === sessionId)).toBe(true);
  await call(client, 'session_kill', { sessionId });
}

test('a session_wait longer than SSE_IDLE_TIMEOUT gets its reply over /sse', async () => {
  await waitLongerThanIdle('sse');
});

test('a session_wait longer than SSE_IDLE_TIMEOUT gets its reply over /mcp, and the session is kept', async () => {
  await waitLongerThanIdle('http');
});

test('a Streamable HTTP client that only listens on its GET stream is not evicted', async () => {
  const mcp = await RawMcp.open(server);
  let ended = false;
  const listening = await new Promise<http.ClientRequest>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: portOf(server),
        method: 'GET',
        path: '/mcp',
        headers: { ...bearer(server.token), accept: 'text/event-stream', 'mcp-session-id': mcp.sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
        agent: false,
      },
      (res) => {
        expect(res.statusCode).toBe(200);
        res.on('close', () => (ended = true));
        res.resume();
        resolve(req);
      },
    );
    req.on('error', (err) => (ended ? undefined : reject(err)));
    req.end();
  });
  try {
    const witness = await openSse(server, bearer(server.token));
    await witness.ended;
    expect(ended).toBe(false);
    expect((await mcp.request('tools/list')).result.tools.length).toBeGreaterThan(0);
  } finally {
    listening.destroy();
    await mcp.close();
  }
});
