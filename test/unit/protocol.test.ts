import { FrameReader, MAX_FRAME_BYTES, SupervisorFrame, WorkerFrame, type WorkerState, encodeFrame } from '../../src/shared/protocol';

// The wire form: finalAnswer and outputNotPersisted may be absent, as from a worker of an older release.
const state: Omit<WorkerState, 'finalAnswer' | 'outputNotPersisted' | 'pendingApprovals'> = {
  sessionId: 's1',
  status: 'running',
  workerPid: 10,
  workerStartTime: '123',
  agentPid: 11,
  agentStartTime: '124',
  nextOffset: 5,
  lastOutputAt: '2024-01-01T00:00:00.000Z',
  lastInputAt: null,
  endedAt: null,
  exitCode: null,
  signal: null,
  endReason: null,
  completedSuccessfully: null,
  agentSessionId: null,
  errorSummary: null,
};

describe('SupervisorFrame', () => {
  const valid: unknown[] = [
    { id: 0, method: 'hello', params: { protocolVersion: 1, secret: 's'.repeat(32) } },
    { id: 1, method: 'read', params: { since: 0, limit: 100, maxBytes: 65536 } },
    { id: 2, method: 'send', params: { text: 'hello\n', raw: false } },
    { id: 3, method: 'kill', params: { reason: 'killed' } },
    { id: 4, method: 'state', params: {} },
    { id: 5, method: 'ackExit', params: {} },
  ];

  test.each(valid)('parses %j', (frame) => {
    const parsed = SupervisorFrame.safeParse(frame);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(frame);
  });

  test('rejects an unknown method', () => {
    expect(SupervisorFrame.safeParse({ id: 1, method: 'exec', params: {} }).success).toBe(false);
  });

  test('rejects a missing or invalid id', () => {
    expect(SupervisorFrame.safeParse({ method: 'state', params: {} }).success).toBe(false);
    expect(SupervisorFrame.safeParse({ id: -1, method: 'state', params: {} }).success).toBe(false);
    expect(SupervisorFrame.safeParse({ id: 1.5, method: 'state', params: {} }).success).toBe(false);
    expect(SupervisorFrame.safeParse({ id: '1', method: 'state', params: {} }).success).toBe(false);
  });

  test.each([
    ['hello secret too short', { id: 1, method: 'hello', params: { protocolVersion: 1, secret: 'short' } }],
    ['hello version not a number', { id: 1, method: 'hello', params: { protocolVersion: '1', secret: 's'.repeat(32) } }],
    ['read since negative', { id: 1, method: 'read', params: { since: -1, limit: 1, maxBytes: 1 } }],
    ['read limit zero', { id: 1, method: 'read', params: { since: 0, limit: 0, maxBytes: 1 } }],
    ['read since a string', { id: 1, method: 'read', params: { since: '0', limit: 1, maxBytes: 1 } }],
    ['read maxBytes missing', { id: 1, method: 'read', params: { since: 0, limit: 1 } }],
    ['send text a number', { id: 1, method: 'send', params: { text: 5, raw: false } }],
    ['send raw a string', { id: 1, method: 'send', params: { text: 'x', raw: 'yes' } }],
    ['kill unknown reason', { id: 1, method: 'kill', params: { reason: 'because' } }],
    ['params missing', { id: 1, method: 'state' }],
  ])('rejects wrong params: %s', (_name, frame) => {
    expect(SupervisorFrame.safeParse(frame).success).toBe(false);
  });
});

describe('WorkerFrame', () => {
  test('an error frame parses as the error branch, not as a result', () => {
    const parsed = WorkerFrame.parse({ id: 7, error: { code: 'unauthorized', message: 'bad secret' } });
    expect(parsed).toEqual({ id: 7, error: { code: 'unauthorized', message: 'bad secret' } });
    expect('error' in parsed).toBe(true);
    expect('result' in parsed).toBe(false);
  });

  test('an error frame with an unknown code is rejected rather than taken for a result', () => {
    expect(WorkerFrame.safeParse({ id: 7, error: { code: 'nope', message: 'x' } }).success).toBe(false);
  });

  test('a result frame parses as a result, whatever the result is', () => {
    for (const result of [{ lines: [] }, null, 0, 'text', []]) {
      const parsed = WorkerFrame.parse({ id: 3, result });
      expect(parsed).toEqual({ id: 3, result });
      expect('result' in parsed).toBe(true);
    }
  });

  test('a frame with an id but neither result nor error is rejected', () => {
    expect(WorkerFrame.safeParse({ id: 3 }).success).toBe(false);
  });

  test('an output event parses as an event', () => {
    const frame = { event: 'output', nextOffset: 42, lastOutputAt: '2024-01-01T00:00:00.000Z' };
    const parsed = WorkerFrame.parse(frame);
    expect(parsed).toEqual(frame);
    expect('event' in parsed && parsed.event).toBe('output');
  });

  test('an output event may carry its new lines (tail); a malformed tail is rejected', () => {
    const frame = { event: 'output', nextOffset: 3, lastOutputAt: '2024-01-01T00:00:00.000Z', tail: { offset: 1, lines: ['a', 'b'] } };
    expect(WorkerFrame.parse(frame)).toEqual(frame);
    expect(WorkerFrame.safeParse({ ...frame, tail: { offset: -1, lines: ['a'] } }).success).toBe(false);
    expect(WorkerFrame.safeParse({ ...frame, tail: { offset: 1, lines: [1] } }).success).toBe(false);
  });

  test('a state event parses as an event carrying the state', () => {
    const parsed = WorkerFrame.parse({ event: 'state', state });
    // A state without finalAnswer, outputNotPersisted or pendingApprovals (an older worker's) parses with them defaulted.
    expect(parsed).toEqual({ event: 'state', state: { ...state, finalAnswer: null, outputNotPersisted: null, pendingApprovals: [] } });
  });

  test('a state event with a malformed state is rejected', () => {
    expect(WorkerFrame.safeParse({ event: 'state', state: { ...state, status: 'sleeping' } }).success).toBe(false);
  });
});

describe('FrameReader', () => {
  function reader() {
    const frames: unknown[] = [];
    let tooLarge = 0;
    const r = new FrameReader(
      (f) => frames.push(f),
      () => tooLarge++,
    );
    return { r, frames, tooLarge: () => tooLarge };
  }

  test('a frame split across chunk boundaries is delivered once, whole', () => {
    const { r, frames } = reader();
    const text = encodeFrame({ id: 1, method: 'send', params: { text: 'héllo wörld', raw: false } });
    for (const ch of text) r.push(ch);
    expect(frames).toEqual([{ id: 1, method: 'send', params: { text: 'héllo wörld', raw: false } }]);
  });

  test('several frames in one chunk are each delivered, in order', () => {
    const { r, frames } = reader();
    r.push(encodeFrame({ a: 1 }) + encodeFrame({ b: 2 }) + encodeFrame({ c: 3 }) + '{"d":');
    expect(frames).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    r.push('4}\n');
    expect(frames).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
  });

  test('a newline inside a string value is escaped by encodeFrame, so it does not split the frame', () => {
    const { r, frames } = reader();
    r.push(encodeFrame({ text: 'line1\nline2' }));
    expect(frames).toEqual([{ text: 'line1\nline2' }]);
  });

  test('unparseable JSON is reported as undefined and later frames still arrive', () => {
    const { r, frames } = reader();
    r.push('{not json}\n' + encodeFrame({ ok: true }));
    expect(frames).toEqual([undefined, { ok: true }]);
  });

  test('blank lines between frames are ignored', () => {
    const { r, frames } = reader();
    r.push('\n\n' + encodeFrame({ x: 1 }) + '\n');
    expect(frames).toEqual([{ x: 1 }]);
  });

  test('a frame without newline beyond MAX_FRAME_BYTES calls onTooLarge and is discarded', () => {
    const { r, frames, tooLarge } = reader();
    r.push('"' + 'x'.repeat(MAX_FRAME_BYTES - 10));
    expect(tooLarge()).toBe(0);
    r.push('x'.repeat(20));
    expect(tooLarge()).toBe(1);
    expect(frames).toEqual([]);
    // The oversized text is gone: the next frame parses on its own.
    r.push(encodeFrame({ after: 1 }));
    expect(frames).toEqual([{ after: 1 }]);
  });

  test('a pending partial frame of exactly MAX_FRAME_BYTES is still allowed', () => {
    const { r, tooLarge } = reader();
    r.push('x'.repeat(MAX_FRAME_BYTES));
    expect(tooLarge()).toBe(0);
  });
});
