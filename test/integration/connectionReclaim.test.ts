/**
 * One-shot Streamable HTTP clients exit without DELETE. At the connection cap,
 * the least recently used such session with nothing in flight gives its slot to
 * a new client; open SSE streams and busy sessions are never taken.
 */
import fs from 'node:fs';
import { call, connect, startServer } from '../helpers/server';

test('an abandoned Streamable HTTP session is reclaimed at the cap; an open SSE client is not', async () => {
  const server = await startServer({ env: { MAX_SSE_CONNECTIONS: '2' } });
  const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  const initialize = () =>
    fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'one-shot', version: '1' } } }),
    });
  const sse = await connect(server, 'sse');
  try {
    const first = await initialize();
    expect(first.status).toBe(200);
    const abandoned = first.headers.get('mcp-session-id')!;
    await first.text();
    // Both slots are taken; the abandoned session is too fresh to reclaim yet.
    const tooSoon = await initialize();
    expect(tooSoon.status).toBe(503);
    await tooSoon.text();
    await new Promise((r) => setTimeout(r, 1_200));
    const second = await initialize();
    expect(second.status).toBe(200);
    await second.text();
    // The abandoned session is gone (a returning client re-initializes), the SSE client is not.
    const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect((await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, 'Mcp-Session-Id': abandoned }, body: list })).status).toBe(404);
    expect((await call(sse, 'session_list')).sessions).toEqual([]);
    // With the remaining slots held by a live SSE stream and a fresh session, a newcomer is refused.
    const full = await initialize();
    expect(full.status).toBe(503);
    await full.text();
  } finally {
    await sse.close();
    await server.stop();
    fs.rmSync(server.dirs.base, { recursive: true, force: true });
  }
});
