/**
 * Streamable HTTP resumability: a client whose server-to-client stream drops
 * reconnects with Last-Event-ID and receives the events it missed.
 */
import fs from 'node:fs';
import { type RunningServer, reapLeftovers, startServer, until } from '../helpers/server';

/** A two-line fake session ends within milliseconds; this is only the bound on a stuck one. */
const SESSION_END_MS = 5_000;

interface SseEvent {
  id?: string;
  data: string;
}

/** Reads SSE events from a fetch response into `into` until aborted. */
async function pump(res: Response, into: SseEvent[]): Promise<void> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev: SseEvent = { data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id:')) ev.id = line.slice(3).trim();
          else if (line.startsWith('data:')) ev.data += line.slice(5).trim();
        }
        if (ev.data) into.push(ev);
      }
    }
  } catch {
    // aborted by the test: the stream "drops"
  }
}

let server: RunningServer;
afterAll(async () => {
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

test('a GET stream resumed with Last-Event-ID replays what was missed, and only that', async () => {
  server = await startServer();
  const base = { Authorization: `Bearer ${server.token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' };
  let nextId = 1;
  const post = async (sid: string | undefined, method: string, params: object, notification = false) => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: sid ? { ...base, 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' } : base,
      body: JSON.stringify(notification ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id: nextId++, method, params }),
    });
    const text = await res.text();
    // The JSON-RPC response, whether it came as plain JSON or as an SSE event on the POST's own stream.
    const dataLines = text.split('\n').filter((l) => l.startsWith('data:'));
    const body = dataLines.length > 0 ? dataLines.map((l) => JSON.parse(l.slice(5))).find((m) => 'id' in m) : text ? JSON.parse(text) : undefined;
    return { res, body };
  };
  const init = (await post(undefined, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'resume-test', version: '1' } })).res;
  const sid = init.headers.get('mcp-session-id')!;
  await post(sid, 'notifications/initialized', {}, true);
  await post(sid, 'logging/setLevel', { level: 'info' });

  const openStream = (lastEventId?: string) => {
    const abort = new AbortController();
    const events: SseEvent[] = [];
    const headers: Record<string, string> = { ...base, 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18', Accept: 'text/event-stream' };
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    let status = 0;
    // Resolves once the response headers are in: the server has taken the stream by then.
    const response = fetch(`${server.url}/mcp`, { method: 'GET', headers, signal: abort.signal });
    const opened = response.then((r) => void (status = r.status)).catch(() => undefined);
    const done = response.then((r) => pump(r, events)).catch(() => undefined);
    return { events, close: () => abort.abort(), done, opened, status: () => status };
  };
  const startSession = async (task: string): Promise<string> =>
    (await post(sid, 'tools/call', { name: 'session_start', arguments: { agent: 'codex', cwd: 'resume', task } })).body.result.structuredContent.sessionId;
  const statusOf = async (sessionId: string): Promise<string> =>
    (await post(sid, 'tools/call', { name: 'session_output', arguments: { sessionId, since: 0, limit: 1 } })).body.result.structuredContent.status;

  const first = openStream();
  await first.opened;
  expect(first.status()).toBe(200);
  await startSession('lines 1');
  await until(() => first.events.some((e) => e.data.includes('"exited"')), 5_000, 'first session logs');
  const seen = first.events.filter((e) => e.id);
  const lastSeen = seen[seen.length - 1].id!;
  first.close();
  await first.done;

  // While the stream is down, another session comes and goes.
  const second = await startSession('lines 2');
  // Its exit is journalled and notified in one step, so once it reads as exited, every event of it is in the replay store.
  await until(async () => (await statusOf(second)) === 'exited', SESSION_END_MS, 'second session to exit');

  const resumed = openStream(lastSeen);
  await resumed.opened;
  expect(resumed.status()).toBe(200);
  await until(() => resumed.events.some((e) => e.data.includes('"exited"')), 5_000, 'replayed events');
  resumed.close();
  await resumed.done;
  const replayedIds = resumed.events.map((e) => e.id);
  // Nothing seen before is sent again, and the missed lifecycle of the second session arrives.
  expect(replayedIds.filter((id) => seen.some((s) => s.id === id))).toEqual([]);
  expect(resumed.events.some((e) => e.data.includes('notifications/message') && e.data.includes('"started"'))).toBe(true);
});
