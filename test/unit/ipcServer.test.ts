/**
 * The worker's IPC server in-process, on a real Unix socket: who it lets in
 * (secret, protocol version, hello first), what it does with frames it cannot
 * use (malformed, oversized), and connections that end half-way.
 */
import fs from 'node:fs';
import { MAX_FRAME_BYTES } from '../../src/shared/framing';
import { RequestError } from '../../src/worker/ipcServer';
import { RawClient, type Rig, SECRET, startIpc, workerState } from './ipcSupport';

/** For the hello-timeout test only: short, so the test waits little for the server to give up. */
const SHORT_HELLO_MS = 50;

let rig: Rig;
const clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(rig.socketPath);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  rig = await startIpc();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await rig.close();
});

test('the socket is the owner’s alone and a stale socket file does not stop listen', async () => {
  expect(fs.statSync(rig.socketPath).mode & 0o777).toBe(0o600);
  // A crashed predecessor leaves its socket file; a new server on the same path must still come up.
  await rig.server.close();
  fs.writeFileSync(rig.socketPath, 'stale');
  await rig.server.listen();
  const c = await client();
  c.hello(1);
  expect((await c.reply(1)).result).toEqual(workerState());
});

test('a hello with the secret and our protocol version is answered and attaches', async () => {
  const c = await client();
  c.hello(1);
  expect(await c.reply(1)).toEqual({ id: 1, result: workerState() });
  expect(rig.attached).toEqual([true]);
  expect(rig.server.isAttached).toBe(true);
  c.send({ id: 2, method: 'state', params: {} });
  expect((await c.reply(2)).result.sessionId).toBe('sess-1');
  expect(rig.handled.map((f) => f.method)).toEqual(['hello', 'state']);
});

test('a wrong secret is refused with unauthorized, logged without the secret, and the connection ended', async () => {
  const c = await client();
  const wrong = 'not-the-secret-0123456789abcdefgh';
  c.hello(1, wrong);
  expect((await c.reply(1)).error.code).toBe('unauthorized');
  await c.closed;
  expect(rig.attached).toEqual([]);
  expect(rig.handled).toEqual([]);
  expect(rig.logText()).toContain('refused an IPC connection with a wrong secret');
  expect(rig.logText()).not.toContain(wrong);
  expect(rig.logText()).not.toContain(SECRET);
});

test('another protocol version is refused with version_mismatch', async () => {
  const c = await client();
  c.hello(1, SECRET, 999);
  expect((await c.reply(1)).error.code).toBe('version_mismatch');
  await c.closed;
  expect(rig.attached).toEqual([]);
});

test('before hello, any other request, malformed frame or bad JSON drops the connection unanswered', async () => {
  const cases: Array<(c: RawClient) => void> = [
    (c) => c.send({ id: 1, method: 'state', params: {} }),
    (c) => c.send({ id: 1, method: 'nope', params: {} }),
    (c) => c.send({ id: 1, method: 'hello', params: { protocolVersion: 1, secret: 'short' } }),
    (c) => c.sock.write('{not json\n'),
  ];
  for (const write of cases) {
    const c = await client();
    write(c);
    await c.closed;
    expect(c.frames).toEqual([]);
  }
  expect(rig.handled).toEqual([]);
  expect(rig.attached).toEqual([]);
});

test('a connection that never says hello is dropped after the hello timeout', async () => {
  await rig.close();
  rig = await startIpc(SHORT_HELLO_MS);
  const c = await client();
  await c.closed;
  expect(c.frames).toEqual([]);
});

test('after hello, a malformed frame is answered with bad_request (its id when it has one) and the connection stays', async () => {
  const c = await client();
  c.hello(1);
  await c.reply(1);
  c.send({ id: 7, method: 'read', params: { since: -1, limit: 1, maxBytes: 1 } });
  expect((await c.reply(7)).error.code).toBe('bad_request');
  c.sock.write('{not json\n');
  expect((await c.reply(-1)).error).toEqual({ code: 'bad_request', message: expect.stringContaining('malformed frame') });
  c.send({ id: 8, method: 'state', params: {} });
  expect((await c.reply(8)).result).toBeDefined();
  expect(rig.handled.map((f) => f.method)).toEqual(['hello', 'state']);
});

test('a handler’s RequestError keeps its code; any other error is internal', async () => {
  const c = await client();
  c.hello(1);
  await c.reply(1);
  rig.handle = () => {
    throw new RequestError('session_ended', 'it ended');
  };
  c.send({ id: 2, method: 'state', params: {} });
  expect((await c.reply(2)).error).toEqual({ code: 'session_ended', message: 'it ended' });
  rig.handle = () => {
    throw new Error('boom');
  };
  c.send({ id: 3, method: 'state', params: {} });
  expect((await c.reply(3)).error).toEqual({ code: 'internal', message: 'boom' });
});

test('an oversized frame drops the connection and detaches', async () => {
  const c = await client();
  c.hello(1);
  await c.reply(1);
  // One frame with no newline in sight, past the limit: the server must not buffer it for ever.
  c.sock.write('"' + 'x'.repeat(MAX_FRAME_BYTES + 1024));
  await c.closed;
  expect(rig.attached).toEqual([true, false]);
  expect(rig.server.isAttached).toBe(false);
});

test('a frame just under the limit, split over many writes, is still taken', async () => {
  const c = await client();
  c.hello(1);
  await c.reply(1);
  const text = 'y'.repeat(MAX_FRAME_BYTES - 200);
  const frame = JSON.stringify({ id: 2, method: 'send', params: { text, raw: true } }) + '\n';
  for (let i = 0; i < frame.length; i += 1 << 20) c.sock.write(frame.slice(i, i + (1 << 20)));
  expect((await c.reply(2)).result).toBeDefined();
  expect(rig.handled[1]).toMatchObject({ method: 'send', params: { raw: true } });
  expect((rig.handled[1] as { params: { text: string } }).params.text.length).toBe(text.length);
});

test('a supervisor that half-closes after a request still gets its answer, then is detached', async () => {
  const c = await client();
  c.hello(1);
  c.send({ id: 2, method: 'state', params: {} });
  c.sock.end(); // no more from us; the answers must still come back
  expect((await c.reply(1)).result).toBeDefined();
  expect((await c.reply(2)).result).toBeDefined();
  await c.closed;
  expect(rig.attached).toEqual([true, false]);
  expect(rig.server.isAttached).toBe(false);
});

test('a half-closed connection that never said hello is not attached', async () => {
  const c = await client();
  c.sock.end();
  await c.closed;
  expect(rig.attached).toEqual([]);
});

test('the newest authenticated connection replaces the previous one; events go to it alone', async () => {
  const first = await client();
  first.hello(1);
  await first.reply(1);
  const second = await client();
  second.hello(1);
  await second.reply(1);
  await first.closed;
  expect(rig.attached).toEqual([true, true]);
  expect(rig.server.isAttached).toBe(true);
  rig.server.emit({ event: 'output', nextOffset: 3, lastOutputAt: 'now' });
  // A request after the event is a barrier: its answer comes after the event on the same socket.
  second.send({ id: 2, method: 'state', params: {} });
  await second.reply(2);
  expect(second.frames.filter((f) => f.event === 'output')).toEqual([{ event: 'output', nextOffset: 3, lastOutputAt: 'now' }]);
  expect(first.frames.filter((f) => f.event)).toEqual([]);
});
