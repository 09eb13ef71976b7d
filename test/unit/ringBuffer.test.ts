import { RingBuffer } from '../../src/shared/ringBuffer';

function filled(capacity: number, count: number, startOffset = 0): RingBuffer {
  const ring = new RingBuffer(capacity, startOffset);
  for (let i = 0; i < count; i++) ring.push(`line ${startOffset + i}`);
  return ring;
}

describe('RingBuffer', () => {
  test('rejects a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(-1)).toThrow(RangeError);
    expect(() => new RingBuffer(2.5)).toThrow(RangeError);
  });

  test('an empty ring reads nothing and reports offset 0', () => {
    const ring = new RingBuffer(5);
    expect(ring.size).toBe(0);
    expect(ring.firstOffset).toBe(0);
    expect(ring.nextOffset).toBe(0);
    expect(ring.read(0, 10)).toEqual({ lines: [], offset: 0, nextOffset: 0, dropped: 0, hasMore: false });
  });

  test('offsets are absolute: line N is the Nth line ever pushed', () => {
    const ring = filled(5, 3);
    expect(ring.read(0, 10)).toEqual({
      lines: ['line 0', 'line 1', 'line 2'],
      offset: 0,
      nextOffset: 3,
      dropped: 0,
      hasMore: false,
    });
    expect(ring.read(1, 10).lines).toEqual(['line 1', 'line 2']);
    expect(ring.read(1, 10).offset).toBe(1);
  });

  test('wraps at capacity: capacity 5, push 12 keeps lines 7..11', () => {
    const ring = filled(5, 12);
    expect(ring.size).toBe(5);
    expect(ring.firstOffset).toBe(7);
    expect(ring.nextOffset).toBe(12);
    const r = ring.read(7, 100);
    expect(r.lines).toEqual(['line 7', 'line 8', 'line 9', 'line 10', 'line 11']);
    expect(r.offset).toBe(7);
    expect(r.nextOffset).toBe(12);
    expect(r.dropped).toBe(0);
    expect(r.hasMore).toBe(false);
  });

  test('reading from before the oldest kept line reports how many were dropped', () => {
    const ring = filled(5, 12);
    const r = ring.read(0, 100);
    expect(r.dropped).toBe(7);
    expect(r.offset).toBe(7);
    expect(r.lines[0]).toBe('line 7');
    expect(ring.read(5, 100).dropped).toBe(2);
    expect(ring.read(7, 100).dropped).toBe(0);
  });

  test('limit cuts the page and sets hasMore; following nextOffset reads the rest', () => {
    const ring = filled(10, 7);
    const first = ring.read(0, 3);
    expect(first.lines).toEqual(['line 0', 'line 1', 'line 2']);
    expect(first.nextOffset).toBe(3);
    expect(first.hasMore).toBe(true);
    const second = ring.read(first.nextOffset, 3);
    expect(second.lines).toEqual(['line 3', 'line 4', 'line 5']);
    expect(second.hasMore).toBe(true);
    const third = ring.read(second.nextOffset, 3);
    expect(third.lines).toEqual(['line 6']);
    expect(third.nextOffset).toBe(7);
    expect(third.hasMore).toBe(false);
  });

  test('maxBytes counts each line plus its newline and cuts before exceeding', () => {
    const ring = new RingBuffer(10);
    for (const l of ['aaaa', 'bbbb', 'cccc', 'dddd']) ring.push(l);
    // 5 units per line: 10 fits two lines exactly, 14 still only two.
    expect(ring.read(0, 100, 10).lines).toEqual(['aaaa', 'bbbb']);
    expect(ring.read(0, 100, 14).lines).toEqual(['aaaa', 'bbbb']);
    expect(ring.read(0, 100, 15).lines).toEqual(['aaaa', 'bbbb', 'cccc']);
    const cut = ring.read(0, 100, 10);
    expect(cut.nextOffset).toBe(2);
    expect(cut.hasMore).toBe(true);
  });

  test('maxBytes smaller than the first line still returns that one line', () => {
    const ring = new RingBuffer(10);
    ring.push('x'.repeat(1000));
    ring.push('y');
    const r = ring.read(0, 100, 1);
    expect(r.lines).toEqual(['x'.repeat(1000)]);
    expect(r.nextOffset).toBe(1);
    expect(r.hasMore).toBe(true);
  });

  test('a since in the future returns nothing and the true next offset', () => {
    const ring = filled(5, 3);
    expect(ring.read(50, 10)).toEqual({ lines: [], offset: 3, nextOffset: 3, dropped: 0, hasMore: false });
    expect(ring.read(3, 10)).toEqual({ lines: [], offset: 3, nextOffset: 3, dropped: 0, hasMore: false });
  });

  test('startOffset continues numbering from a given offset once the ring is full', () => {
    const ring = filled(5, 5, 100);
    expect(ring.firstOffset).toBe(100);
    expect(ring.nextOffset).toBe(105);
    const r = ring.read(100, 10);
    expect(r.lines).toEqual(['line 100', 'line 101', 'line 102', 'line 103', 'line 104']);
    expect(r.offset).toBe(100);
    const older = ring.read(90, 10);
    expect(older.dropped).toBe(10);
    expect(older.offset).toBe(100);
  });

  // A ring started at an offset (resumed or reloaded output) holds only what it was given.
  test('startOffset with fewer pushes than capacity: only pushed lines are held', () => {
    const ring = filled(5, 2, 100);
    expect(ring.firstOffset).toBe(100);
    expect(ring.size).toBe(2);
    const r = ring.read(0, 10);
    expect(r.lines).toEqual(['line 100', 'line 101']);
    expect(r.dropped).toBe(100);
  });

  test('matches a naive array model over many random operations', () => {
    // Deterministic PRNG so a failure is reproducible.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 20; round++) {
      const capacity = 1 + rand(12);
      const ring = new RingBuffer(capacity);
      const all: string[] = [];
      for (let op = 0; op < 400; op++) {
        if (rand(3) !== 0) {
          const line = 'L'.repeat(rand(6)) + String(all.length);
          ring.push(line);
          all.push(line);
          continue;
        }
        const since = rand(all.length + 5);
        const limit = 1 + rand(8);
        const maxBytes = rand(2) === 0 ? Infinity : 1 + rand(30);

        const first = Math.max(0, all.length - capacity);
        const start = Math.max(since, first);
        const expected: string[] = [];
        let bytes = 0;
        for (let at = start; at < all.length && expected.length < limit; at++) {
          bytes += all[at].length + 1;
          if (expected.length > 0 && bytes > maxBytes) break;
          expected.push(all[at]);
        }
        const next = start > all.length ? all.length : start + expected.length;

        const got = ring.read(since, limit, maxBytes);
        expect(got.lines).toEqual(expected);
        expect(got.dropped).toBe(Math.max(0, first - since));
        expect(got.offset).toBe(Math.min(start, all.length));
        expect(got.nextOffset).toBe(next);
        expect(got.hasMore).toBe(next < all.length);
        expect(ring.size).toBe(Math.min(all.length, capacity));
        expect(ring.firstOffset).toBe(first);
      }
    }
  });

  test('a million pushes into capacity 10,000 keeps size at 10,000', () => {
    const ring = new RingBuffer(10_000);
    for (let i = 0; i < 1_000_000; i++) ring.push('x');
    expect(ring.size).toBe(10_000);
    expect(ring.firstOffset).toBe(990_000);
    expect(ring.nextOffset).toBe(1_000_000);
    const tail = ring.read(999_998, 10);
    expect(tail.lines).toEqual(['x', 'x']);
    expect(tail.offset).toBe(999_998);
  });
});
