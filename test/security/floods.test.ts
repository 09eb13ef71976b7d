/**
 * Floods, bounded in count and time and sent only to 127.0.0.1: message posts
 * past RATE_LIMIT_RPM (429 + Retry-After, per source address, not fooled by
 * X-Forwarded-For and friends, batches counted per message), the limiter's
 * memory staying bounded however many addresses it sees, connections past
 * MAX_SSE_CONNECTIONS (503 without dropping active clients; idle ones evicted
 * to free a slot), and a pile of half-open TCP connections.
 *
 * Loopback source addresses (127.x.y.z via localAddress) really are different
 * clients to the server: trust proxy is off, so a request's address is its
 * socket's, and only that.
 */
import net from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, until } from '../helpers/server';
import { type RawSse, bearer, expectNormalSession, finish, initializeBody, mcpPostHeaders, openSse, portOf, request, startSecurityServer } from './support';

const RPM = 10;
const MAX_ADDRESSES = 8;

describe('rate limit', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startSecurityServer({ RATE_LIMIT_RPM: String(RPM), RATE_LIMIT_MAX_ADDRESSES: String(MAX_ADDRESSES) });
  });

  afterAll(async () => {
    await finish(server);
  });

  /** A cheap message post: a ping outside any session (counted, then answered 400 for the missing session). */
  const post = (localAddress: string, headers: Record<string, string> = {}, body: unknown = { jsonrpc: '2.0', id: 1, method: 'ping' }) =>
    request(server, { method: 'POST', path: '/mcp', headers: { ...mcpPostHeaders(server.token), ...headers }, body: JSON.stringify(body), localAddress });

  const buckets = async () => (await request(server, { path: '/health', headers: bearer(server.token) })).json.rateLimitedAddresses as number;

  function expect429(res: Awaited<ReturnType<typeof post>>) {
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/rate limit/) } });
  }

  test('past RATE_LIMIT_RPM an address gets 429 with Retry-After; another address is unaffected', async () => {
    for (let i = 0; i < RPM; i++) expect((await post('127.0.0.1')).status).toBe(400);
    const limited = await post('127.0.0.1');
    expect429(limited);
    expect(limited.headers.ratelimit).toMatch(/remaining=0/);
    // SSE message posts share the address's budget.
    const sse = await request(server, {
      method: 'POST',
      path: '/messages?sessionId=x',
      headers: { ...bearer(server.token), 'content-type': 'application/json' },
      body: '{}',
      localAddress: '127.0.0.1',
    });
    expect429(sse as any);
    // A different source address is a different client.
    expect((await post('127.0.5.1')).status).toBe(400);
    // Reads that are not message posts are not limited: health still answers the limited address.
    expect((await request(server, { path: '/health', localAddress: '127.0.0.1' })).status).toBe(200);
  });

  test('spoofed X-Forwarded-For, Forwarded, X-Real-IP … neither bypass the limit nor create buckets', async () => {
    const before = await buckets();
    const spoofs: Array<Record<string, string>> = [];
    for (let i = 1; i <= 12; i++) {
      spoofs.push({ 'x-forwarded-for': `203.0.113.${i}` });
      spoofs.push({ forwarded: `for=198.51.100.${i};proto=http` });
    }
    spoofs.push({ 'x-real-ip': '192.0.2.1' }, { 'cf-connecting-ip': '192.0.2.2' }, { 'true-client-ip': '192.0.2.3' });
    spoofs.push({ 'x-forwarded-for': '127.0.9.9, 10.0.0.1' }, { 'x-client-ip': '::1' }, { 'x-forwarded-for': 'unknown' });
    for (const headers of spoofs) expect429(await post('127.0.0.1', headers));
    expect(await buckets()).toBe(before);
  });

  test('a JSON-RPC batch costs one unit per message', async () => {
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }));
    // One POST carrying more messages than the whole budget is refused outright …
    expect429(await post('127.0.5.2', {}, batch(RPM + 2)));
    // … and a batch that fits uses up the budget it should.
    expect((await post('127.0.5.3', {}, batch(RPM - 1))).status).toBe(400);
    expect((await post('127.0.5.3')).status).toBe(400);
    expect429(await post('127.0.5.3'));
  });

  test('the limiter remembers at most RATE_LIMIT_MAX_ADDRESSES addresses; newcomers share one bucket and stay limited', async () => {
    const results: number[] = [];
    for (let i = 1; i <= 40; i++) {
      results.push((await post(`127.0.6.${i}`)).status);
      expect(await buckets()).toBeLessThanOrEqual(MAX_ADDRESSES);
    }
    // Each of these addresses sent one post; the ones beyond the table's room share the overflow
    // bucket, so once RPM of them have posted the rest are limited: room is never bought by new addresses.
    expect(results.filter((s) => s === 400).length).toBeLessThanOrEqual(MAX_ADDRESSES + RPM);
    expect(results.filter((s) => s === 429).length).toBeGreaterThanOrEqual(40 - (MAX_ADDRESSES + RPM));
    expect(results.slice(-5)).toEqual([429, 429, 429, 429, 429]);
  });

  test('requests without the token never reach the limiter: no bucket for strangers, however many', async () => {
    const before = await buckets();
    for (let i = 1; i <= 100; i++) {
      const res = await request(server, {
        method: 'POST',
        path: '/mcp',
        headers: { 'content-type': 'application/json', authorization: `Bearer wrong-${i}-0123456789abcdef` },
        body: '{}',
        localAddress: `127.0.7.${i}`,
      });
      expect(res.status).toBe(401);
    }
    expect(await buckets()).toBe(before);
  });
});

describe('connection cap and idle eviction', () => {
  const MAX = 3;
  let server: RunningServer;
  let active: Client;

  beforeAll(async () => {
    server = await startSecurityServer({ MAX_SSE_CONNECTIONS: String(MAX), SSE_IDLE_TIMEOUT: '1500' });
    active = await connect(server, 'sse');
  });

  afterAll(async () => {
    await finish(server, [active]);
  });

  const connections = async () => (await request(server, { path: '/health', headers: bearer(server.token) })).json.connections as number;
  const initialize = () => request(server, { method: 'POST', path: '/mcp', headers: mcpPostHeaders(server.token), body: JSON.stringify(initializeBody()), readStream: true });

  test('at the cap a new connection gets a clear 503, the active client keeps working, and idle eviction frees a slot', async () => {
    // The active client keeps talking (well inside the idle timeout) for the whole test.
    let activeCalls = 0;
    let activeError: unknown;
    let keepGoing = true;
    const chatter = (async () => {
      while (keepGoing) {
        try {
          await call(active, 'session_list');
          activeCalls++;
        } catch (err) {
          activeError = err;
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const idle: RawSse[] = [await openSse(server, bearer(server.token)), await openSse(server, bearer(server.token))];
      expect(idle.every((s) => s.status === 200 && s.sessionId)).toBe(true);
      expect(await connections()).toBe(MAX);

      // A burst of newcomers, both transports: all 503 with a message that names the setting.
      const burst = await Promise.all([...Array.from({ length: 10 }, () => openSse(server, bearer(server.token))), ...Array.from({ length: 10 }, () => initialize())]);
      for (const res of burst) {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBeDefined();
        const body = JSON.parse('body' in res ? res.body : res.text);
        expect(body).toEqual({ error: 'too_many_connections', message: expect.stringContaining('MAX_SSE_CONNECTIONS') });
      }
      expect(await connections()).toBe(MAX);

      // The idle ones are evicted (their streams end); the active one is not.
      await until(() => idle.every((s) => s.isEnded()), 6_000, 'idle SSE connections to be evicted');
      expect(activeError).toBeUndefined();
      expect(await connections()).toBe(1);

      // Two slots free: of a burst of concurrent initializations exactly two get in, never more.
      const race = await Promise.all(Array.from({ length: 12 }, () => initialize()));
      expect(race.filter((r) => r.status === 200)).toHaveLength(MAX - 1);
      expect(race.filter((r) => r.status === 503)).toHaveLength(12 - (MAX - 1));
      expect(await connections()).toBe(MAX);
      for (const r of race.filter((x) => x.status === 200)) {
        await request(server, { method: 'DELETE', path: '/mcp', headers: { ...bearer(server.token), 'mcp-session-id': String(r.headers['mcp-session-id']) } });
      }
      await until(async () => (await connections()) === 1, 3_000, 'deleted sessions to free their slots');
    } finally {
      keepGoing = false;
      await chatter;
    }
    expect(activeError).toBeUndefined();
    expect(activeCalls).toBeGreaterThan(5);
  });

  test('hundreds of half-open TCP connections do not stop the server from serving', async () => {
    const port = portOf(server);
    const sockets: net.Socket[] = [];
    try {
      await Promise.all(
        Array.from(
          { length: 300 },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect(port, '127.0.0.1', () => {
                // Half a request line, then nothing: a slowloris client.
                s.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
                resolve();
              });
              s.on('error', () => resolve());
              sockets.push(s);
            }),
        ),
      );
      const t0 = Date.now();
      expect((await request(server, { path: '/health' })).json).toEqual({ status: 'ok' });
      expect((await call(active, 'session_list')).sessions).toBeDefined();
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  test('after the floods the server still serves a normal session end to end', async () => {
    await expectNormalSession(active);
  });
});
