/** What a worker's output event carries: the lines since the previous event, when they are few. */
import { OUTPUT_TAIL } from '../../src/shared/protocol';
import { RingBuffer } from '../../src/shared/ringBuffer';
import { outputTail } from '../../src/worker/outputTail';

test('the lines since the previous event, at their offset', () => {
  const ring = new RingBuffer(100);
  ring.push('a');
  ring.push('b');
  ring.push('c');
  expect(outputTail(ring, 1)).toEqual({ offset: 1, lines: ['b', 'c'] });
  expect(outputTail(ring, 3)).toEqual({ offset: 3, lines: [] });
});

test('none for a burst past the bounds or lines the ring no longer holds: those are read', () => {
  const many = new RingBuffer(1_000);
  for (let i = 0; i <= OUTPUT_TAIL.lines; i++) many.push(`line ${i}`);
  expect(outputTail(many, 0)).toBeUndefined();
  expect(outputTail(many, 1)?.lines).toHaveLength(OUTPUT_TAIL.lines);
  const long = new RingBuffer(100);
  long.push('x'.repeat(OUTPUT_TAIL.chars));
  expect(outputTail(long, 0)).toBeUndefined();
  const small = new RingBuffer(2);
  for (const l of ['a', 'b', 'c']) small.push(l);
  expect(outputTail(small, 0)).toBeUndefined();
  expect(outputTail(small, 1)).toEqual({ offset: 1, lines: ['b', 'c'] });
});
