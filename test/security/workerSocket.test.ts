/**
 * The worker's Unix socket: 0600 in a 0700 directory, and nothing is served
 * to a connection until it presents the session's secret (kept in the journal)
 * in a hello. Silent connections, garbage, well-formed requests without a
 * hello, wrong secrets, wrong protocol versions, oversized frames and a crowd
 * of all of these are closed without service while the session keeps running;
 * the right secret is served (and the supervisor takes its connection back).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, connect, until } from '../helpers/server';
import { expectNormalSession, finish, startSecurityServer } from './support';

let server: RunningServer;
let client: Client;
let sessionId: string;
let socketPath: string;
let secret: string;

beforeAll(async () => {
  server = await startSecurityServer();
  client = await connect(server, 'http');
  // Ticks every 100 ms for a minute: output that must keep flowing through every attack.
  sessionId = (await call(client, 'session_start', { agent: 'codex', cwd: 'ticking', task: 'tick 600 100' })).sessionId;
  const db = new Database(path.join(server.dirs.stateDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    ({ socket_path: socketPath, secret } = db.prepare('SELECT socket_path, secret FROM sessions WHERE id = ?').get(sessionId) as any);
  } finally {
    db.close();
  }
});

afterAll(async () => {
  await finish(server, [client]);
});

interface Outcome {
  /** Frames the worker sent back, parsed. */
  frames: any[];
  /** Raw bytes received. */
  received: string;
  /** ms from connect to close; null if still open at the deadline. */
  closedAfterMs: number | null;
}

/** Connects, writes `data` (nothing if null), and reports what came back and when the worker hung up. */
function probe(data: string | Buffer | null, deadlineMs = 8_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.createConnection(socketPath);
    let received = '';
    let done = false;
    const finishProbe = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const frames = received
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return { unparsable: l };
          }
        });
      resolve({ frames, received, closedAfterMs: closed ? Date.now() - t0 : null });
    };
    const timer = setTimeout(() => finishProbe(false), deadlineMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (received += d));
    sock.on('error', () => finishProbe(true));
    sock.on('close', () => finishProbe(true));
    sock.on('end', () => finishProbe(true));
    sock.on('connect', () => {
      if (data !== null) sock.write(data);
    });
  });
}

const hello = (secretValue: unknown, protocolVersion: unknown = 1, id: unknown = 1) => JSON.stringify({ id, method: 'hello', params: { protocolVersion, secret: secretValue } }) + '\n';

/** Lines the session has printed so far. */
async function outputOffset(): Promise<number> {
  return (await call(client, 'session_list')).sessions.find((s: any) => s.sessionId === sessionId).outputLines;
}

test('the socket is 0600 in a 0700 directory, and the session files that hold the secret are private', () => {
  const st = fs.statSync(socketPath);
  expect(st.isSocket()).toBe(true);
  expect(st.mode & 0o777).toBe(0o600);
  expect(st.uid).toBe(process.getuid!());
  expect(fs.statSync(path.dirname(socketPath)).mode & 0o777).toBe(0o700);
  expect(fs.statSync(server.dirs.stateDir).mode & 0o777).toBe(0o700);
  const sessionDir = path.join(server.dirs.stateDir, 'sessions', sessionId);
  expect(fs.statSync(sessionDir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(sessionDir, 'spec.json')).mode & 0o777).toBe(0o600);
  // The journal (every session's secret) is reachable only through that 0700 STATE_DIR.
  expect(path.dirname(path.join(server.dirs.stateDir, 'journal.db'))).toBe(server.dirs.stateDir);
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
});

test('connections without the right hello are closed without service; the session keeps running', async () => {
  const before = await outputOffset();
  const wrongSecret = secret.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
  const cases: Array<[string, string | Buffer | null]> = [
    ['nothing at all (hello timeout)', null],
    ['garbage bytes', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a, 0x00, 0xff, 0x0a])],
    ['a line that is not JSON', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n\n'],
    ['JSON that is not a frame', '{"hello":"world"}\n'],
    ['a read before any hello', JSON.stringify({ id: 1, method: 'read', params: { since: 0, limit: 10, maxBytes: 10_000 } }) + '\n'],
    ['a kill before any hello', JSON.stringify({ id: 1, method: 'kill', params: { reason: 'killed' } }) + '\n'],
    ['a send before any hello', JSON.stringify({ id: 1, method: 'send', params: { text: 'rm -rf ~\r', raw: true } }) + '\n'],
    ['a state request before any hello', JSON.stringify({ id: 1, method: 'state', params: {} }) + '\n'],
    ['hello with a wrong secret', hello(wrongSecret)],
    ['hello with the secret upper-cased', hello(secret.toUpperCase())],
    ['hello with the secret plus a byte', hello(secret + '0')],
    ['hello with a prefix of the secret', hello(secret.slice(0, 32))],
    ['hello with an empty secret', hello('')],
    ['hello with a non-string secret', hello(['x'.repeat(64)])],
    ['hello with no params', JSON.stringify({ id: 1, method: 'hello' }) + '\n'],
    ['hello with the right secret and a wrong protocol version', hello(secret, 999)],
    ['a wrong hello followed by a read in the same write', hello(wrongSecret) + JSON.stringify({ id: 2, method: 'read', params: { since: 0, limit: 10, maxBytes: 10_000 } }) + '\n'],
    ['an oversized frame (17 MB, no newline)', Buffer.alloc(17 * 1024 * 1024, 0x61)],
    ['an oversized hello', hello('s'.repeat(17 * 1024 * 1024))],
  ];
  // All at once, plus a crowd of 50 silent or garbage connections.
  const [outcomes, crowd] = await Promise.all([Promise.all(cases.map(([, data]) => probe(data))), Promise.all(Array.from({ length: 50 }, (_, i) => probe(i % 2 ? null : 'x\n')))]);
  cases.forEach(([what], i) => {
    const o = outcomes[i];
    expect({ what, closed: o.closedAfterMs !== null }).toEqual({ what, closed: true });
    // Never a result: at most an error frame naming why.
    expect({ what, results: o.frames.filter((f) => 'result' in f || 'event' in f) }).toEqual({ what, results: [] });
    for (const f of o.frames) expect(['unauthorized', 'version_mismatch']).toContain(f.error?.code);
    expect(o.received).not.toContain(sessionId);
  });
  expect(outcomes[0].closedAfterMs).toBeGreaterThanOrEqual(4_000); // the hello deadline
  expect(outcomes[1].closedAfterMs).toBeLessThan(2_000); // garbage: at once
  expect(outcomes[8].frames).toEqual([{ id: 1, error: { code: 'unauthorized', message: 'wrong secret' } }]);
  expect(outcomes[15].frames[0].error.code).toBe('version_mismatch');
  expect(crowd.every((o) => o.closedAfterMs !== null && o.frames.every((f) => !('result' in f)))).toBe(true);

  // The session never noticed: still running, still printing, still reachable.
  const page = await call(client, 'session_output', { sessionId, since: 0, limit: 1 });
  expect(page.status).toBe('running');
  await until(async () => (await outputOffset()) > before + 5, 5_000, 'ticks to keep coming');
});

test('the right secret is served; the supervisor then takes its connection back and the session runs on', async () => {
  const sock = net.createConnection(socketPath);
  let received = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (received += d));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(hello(secret, 1, 7));
  await until(() => received.includes('\n'), 5_000, 'the hello reply');
  const reply = JSON.parse(received.split('\n')[0]);
  expect(reply.id).toBe(7);
  expect(reply.result.sessionId).toBe(sessionId);
  expect(reply.result.status).toBe('running');
  // Served as the attached peer: a request answered.
  sock.write(JSON.stringify({ id: 8, method: 'read', params: { since: 0, limit: 2, maxBytes: 10_000 } }) + '\n');
  await until(() => received.split('\n').some((l) => l.includes('"id":8')), 5_000, 'the read reply');
  sock.destroy();
  // The supervisor re-attaches on its own and the session is as it was.
  const before = await outputOffset();
  await until(async () => (await outputOffset()) > before + 3, 10_000, 'output through the supervisor again');
  expect((await call(client, 'session_output', { sessionId, since: 0, limit: 1 })).status).toBe('running');
  await call(client, 'session_kill', { sessionId });
});

test('after all that, the server still serves a normal session end to end', async () => {
  await expectNormalSession(client);
});
