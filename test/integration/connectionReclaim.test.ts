/**
 * One-shot Streamable HTTP clients exit without DELETE. At the connection cap,
 * the least recently used such session with nothing in flight gives its slot to
 * a new client; open SSE streams and busy sessions are never taken.
 */
import fs from 'node:fs';
import { ConnectionTimeouts } from '../../src/supervisor/http/connections';
import { call, connect, startServer, until } from '../helpers/server';

/** Beyond the idle time the rule asks for: how long a loaded box may take to answer the retry that succeeds. */
const RECLAIM_SLACK_MS = 10_000;

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
    // The server's idea of when the session was last active is no earlier than this.
    const sentFirst = Date.now();
    const first = await initialize();
    expect(first.status).toBe(200);
    const abandoned = first.headers.get('mcp-session-id')!;
    await first.text();
    // Both slots are taken; the abandoned session is too fresh to reclaim yet.
    const tooSoon = await initialize();
    expect(tooSoon.status).toBe(503);
    await tooSoon.text();
    // Retried until the server reclaims the idle session (a refused initialize changes nothing).
    let second: Response | undefined;
    await until(
      async () => {
        await second?.text();
        second = await initialize();
        return second.status === 200;
      },
      ConnectionTimeouts.reclaimMinIdleMs + RECLAIM_SLACK_MS,
      'the abandoned session to be reclaimed',
    );
    expect(second!.status).toBe(200);
    expect(Date.now() - sentFirst).toBeGreaterThanOrEqual(ConnectionTimeouts.reclaimMinIdleMs);
    await second!.text();
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
