/**
 * The supervisor's worker client against a real in-process IPC server on a
 * real Unix socket: connect and hello, typed answers and errors, events that
 * come before anyone listens, and what a pending request sees when the
 * connection goes.
 */
import net from 'node:net';
import { MAX_FRAME_BYTES, encodeFrame } from '../../src/shared/framing';
import { WorkerClient, WorkerRequestError } from '../../src/supervisor/workerClient';
import { RequestError } from '../../src/worker/ipcServer';
import { type Rig, SECRET, startIpc, workerState } from './ipcSupport';

/** Connect and request timeout for tests that expect an answer: far above what a local socket takes. */
const CONNECT_MS = 5_000;
/** For the timeout tests only: short, so the test waits little for the client to give up. */
const SHORT_REQUEST_MS = 50;

let rig: Rig;
const opened: WorkerClient[] = [];

async function connect(secret = SECRET, timeoutMs = CONNECT_MS) {
  const r = await WorkerClient.connect(rig.socketPath, secret, timeoutMs);
  opened.push(r.client);
  return r;
}

function closedEvent(c: WorkerClient): Promise<void> {
  return new Promise((resolve) => (c.isClosed ? resolve() : c.once('close', () => resolve())));
}

beforeEach(async () => {
  rig = await startIpc();
});

afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  await rig.close();
});

test('connect says hello with the secret and resolves with the worker’s state', async () => {
  rig.handle = () => workerState({ nextOffset: 42 });
  const { client, state } = await connect();
  expect(state.nextOffset).toBe(42);
  expect(rig.handled[0]).toMatchObject({ method: 'hello', params: { secret: SECRET } });
  expect(client.isClosed).toBe(false);
});

test('a wrong secret rejects connect with unauthorized and leaves nothing attached', async () => {
  await expect(connect('wrong-secret-0123456789abcdefghij')).rejects.toMatchObject({ code: 'unauthorized' });
  expect(rig.attached).toEqual([]);
});

test('connect to a path where nothing listens rejects', async () => {
  await expect(WorkerClient.connect(rig.dir + '/nobody.sock', SECRET, CONNECT_MS)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
});

test('answers are checked against the method’s result schema; worker errors keep their code', async () => {
  const { client } = await connect();
  rig.handle = () => ({ lines: ['a', 'b'], offset: 0, nextOffset: 2, dropped: 0, hasMore: false });
  await expect(client.request('read', { since: 0, limit: 10, maxBytes: 1000 })).resolves.toEqual({
    lines: ['a', 'b'],
    offset: 0,
    nextOffset: 2,
    dropped: 0,
    hasMore: false,
  });
  rig.handle = () => ({ lines: 'not an array' });
  await expect(client.request('read', { since: 0, limit: 10, maxBytes: 1000 })).rejects.toMatchObject({ code: 'bad_response' });
  rig.handle = () => {
    throw new RequestError('session_ended', 'it ended');
  };
  const err = await client.request('state', {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkerRequestError);
  expect(err).toMatchObject({ code: 'session_ended', message: 'it ended' });
  // The connection survives all of that.
  rig.handle = () => workerState();
  await expect(client.request('state', {})).resolves.toMatchObject({ sessionId: 'sess-1' });
});

test('events sent before anyone listens are replayed in order, consecutive outputs collapsed into the newest', async () => {
  // Emitted while the hello is being handled: they reach the client before its answer to hello.
  rig.handle = (frame) => {
    if (frame.method === 'hello') {
      rig.server.emit({ event: 'output', nextOffset: 1, lastOutputAt: 't1' });
      rig.server.emit({ event: 'output', nextOffset: 2, lastOutputAt: 't2' });
      rig.server.emit({ event: 'state', state: workerState({ status: 'exited' }) });
      rig.server.emit({ event: 'output', nextOffset: 3, lastOutputAt: 't3' });
    }
    return workerState();
  };
  const { client } = await connect();
  const seen: unknown[] = [];
  client.on('output', (n, at) => seen.push(['output', n, at]));
  client.on('state', (s) => seen.push(['state', s.status]));
  // A request is a barrier: by its answer the replay (queued at the first listener) has run.
  await client.request('state', {});
  expect(seen).toEqual([
    ['output', 2, 't2'],
    ['state', 'exited'],
    ['output', 3, 't3'],
  ]);
});

test('events after listeners are added are delivered as they come; malformed ones are ignored', async () => {
  const { client } = await connect();
  const seen: number[] = [];
  client.on('output', (n) => seen.push(n));
  await client.request('state', {}); // the replay of (no) early events is done
  rig.server.emit({ event: 'output', nextOffset: 5, lastOutputAt: 'x' });
  rig.server.emit({ event: 'output', nextOffset: 'six', lastOutputAt: 'x' });
  rig.server.emit({ event: 'output', nextOffset: 7, lastOutputAt: 'x' });
  await client.request('state', {}); // barrier: answered after the three events
  expect(seen).toEqual([5, 7]);
});

test('when the worker goes, pending requests reject with disconnected, close is emitted, later requests fail at once', async () => {
  const { client } = await connect();
  const closed = closedEvent(client);
  // The handler closes the server side before answering: the request is left pending until the socket closes.
  rig.handle = () => {
    void rig.server.close();
    return workerState();
  };
  const pending = client.request('state', {});
  await expect(pending).rejects.toMatchObject({ code: 'disconnected' });
  await closed;
  expect(client.isClosed).toBe(true);
  await expect(client.request('state', {})).rejects.toMatchObject({ code: 'disconnected' });
});

test('an oversized frame from the worker closes the connection', async () => {
  const { client } = await connect();
  const closed = closedEvent(client);
  // Twice the limit: the reader checks only what is still unterminated after each read, so a frame a
  // little over the limit whose newline comes in the same read as its last bytes is let through.
  rig.server.emit({ event: 'output', nextOffset: 1, lastOutputAt: 'x'.repeat(2 * MAX_FRAME_BYTES) });
  await closed;
  expect(client.isClosed).toBe(true);
});

describe('against a worker that does not answer in time', () => {
  let server: net.Server;
  let path: string;
  const socks: net.Socket[] = [];
  /** What the stand-in worker has received, frame by frame. */
  let received: Array<{ id: number; method: string }>;
  let onReceived: Array<() => void>;

  /** Resolves once the stand-in worker has received a frame that `pred` accepts. */
  async function receivedFrame(pred: (f: { id: number; method: string }) => boolean): Promise<{ id: number; method: string }> {
    for (;;) {
      const f = received.find(pred);
      if (f) return f;
      await new Promise<void>((r) => onReceived.push(r));
    }
  }

  beforeEach(async () => {
    received = [];
    onReceived = [];
    path = rig.dir + '/slow.sock';
    // A stand-in worker: answers hello, keeps every later request unanswered until the test says.
    server = net.createServer((s) => {
      socks.push(s);
      s.setEncoding('utf8');
      let buf = '';
      s.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const f = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          received.push(f);
          for (const r of onReceived.splice(0)) r();
          if (f.method === 'hello') s.write(encodeFrame({ id: f.id, result: workerState() }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
  });

  afterEach(async () => {
    for (const s of socks.splice(0)) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('a request times out; a late answer reaches onLate, not the caller', async () => {
    const { client } = await WorkerClient.connect(path, SECRET, SHORT_REQUEST_MS);
    opened.push(client);
    let late: unknown;
    const gotLate = new Promise<void>((resolve) => {
      void client
        .request('send', { text: 'hi', raw: false }, (r) => {
          late = r;
          resolve();
        })
        .catch(async (e: unknown) => {
          expect(e).toMatchObject({ code: 'timeout' });
          // Only now answer: the caller has already been told it timed out.
          const { id } = await receivedFrame((f) => f.method === 'send');
          socks[0].write(encodeFrame({ id, result: { delivered: true, queued: false } }));
        });
    });
    await gotLate;
    expect(late).toEqual({ delivered: true, queued: false });
  });

  test('a timed-out request without onLate ignores its late answer', async () => {
    const { client } = await WorkerClient.connect(path, SECRET, SHORT_REQUEST_MS);
    opened.push(client);
    await expect(client.request('state', {})).rejects.toMatchObject({ code: 'timeout' });
    const { id } = await receivedFrame((f) => f.method === 'state');
    socks[0].write(encodeFrame({ id, result: workerState() }));
    // The late answer must not be mistaken for the next request's (ids are never reused).
    const next = client.request('state', {});
    const second = await receivedFrame((f) => f.method === 'state' && f.id !== id);
    socks[0].write(encodeFrame({ id: second.id, result: workerState({ nextOffset: 9 }) }));
    await expect(next).resolves.toMatchObject({ nextOffset: 9 });
  });
});
