/**
 * RecentLines answers a read exactly as the worker's ring would (RingBuffer.read),
 * or not at all: it is a stand-in for a round trip, so any difference would be a
 * client seeing other lines than before.
 */
import { RingBuffer } from '../../src/shared/ringBuffer';
import { RecentLines } from '../../src/supervisor/session/recentLines';

const line = (i: number) => `line ${i}${'x'.repeat(i % 7)}`;

test("every read it answers equals the worker ring's answer", () => {
  const ring = new RingBuffer(1_000);
  const recent = new RecentLines(10_000, 100);
  for (let i = 0; i < 30; i++) ring.push(line(i));
  recent.note(30, { offset: 0, lines: Array.from({ length: 30 }, (_, i) => line(i)) });
  let answered = 0;
  for (let since = 0; since <= 30; since++) {
    for (const limit of [1, 2, 5, 100]) {
      for (const maxBytes of [1, 10, 25, 1_000]) {
        const page = recent.read(since, limit, maxBytes, 30);
        expect(page).toEqual(ring.read(since, limit, maxBytes));
        answered++;
      }
    }
  }
  expect(answered).toBe(31 * 16);
});

test('events extend the run; a gap, a missing tail or an offset past what it holds sends the read to the worker', () => {
  const recent = new RecentLines(10_000, 100);
  recent.note(2, { offset: 0, lines: ['a', 'b'] });
  recent.note(3, { offset: 2, lines: ['c'] });
  expect(recent.read(1, 10, 1_000, 3)?.lines).toEqual(['b', 'c']);
  // The worker has announced more than it carried: only the worker has the page.
  expect(recent.read(1, 10, 1_000, 4)).toBeUndefined();
  recent.note(5, { offset: 4, lines: ['e'] }); // a gap (line 3 never came): a new run from 4
  expect(recent.read(3, 10, 1_000, 5)).toBeUndefined();
  expect(recent.read(4, 10, 1_000, 5)?.lines).toEqual(['e']);
  recent.note(6, undefined); // an event without lines
  expect(recent.read(5, 10, 1_000, 6)).toBeUndefined();
  recent.note(8, { offset: 6, lines: ['g'] }); // a tail that does not reach the announced offset
  expect(recent.read(6, 10, 1_000, 8)).toBeUndefined();
  expect(recent.read(6, 10, 1_000, 7)).toBeUndefined();
});

test('holds at most maxLines lines and about maxChars characters, dropping the oldest', () => {
  const byLines = new RecentLines(10_000, 3);
  byLines.note(5, { offset: 0, lines: ['0', '1', '2', '3', '4'] });
  expect(byLines.read(1, 10, 1_000, 5)).toBeUndefined();
  expect(byLines.read(2, 10, 1_000, 5)?.lines).toEqual(['2', '3', '4']);
  const byChars = new RecentLines(10, 100);
  byChars.note(3, { offset: 0, lines: ['aaaa', 'bbbb', 'cccc'] }); // 5 characters each with the newline
  expect(byChars.read(0, 10, 1_000, 3)).toBeUndefined();
  expect(byChars.read(1, 10, 1_000, 3)?.lines).toEqual(['bbbb', 'cccc']);
});
