/**
 * The lines an output event carries: those since the previous event, when they
 * fit OUTPUT_TAIL, so the supervisor can answer a waiting client without a read
 * round trip. A burst too big (or lines gone from the ring) is left to `read`.
 */
import { OUTPUT_TAIL, type OutputTail } from '../shared/protocol';
import type { RingBuffer } from '../shared/ringBuffer';

export function outputTail(ring: RingBuffer, from: number): OutputTail | undefined {
  const page = ring.read(from, OUTPUT_TAIL.lines, OUTPUT_TAIL.chars);
  if (page.dropped > 0 || page.offset !== from || page.hasMore) return undefined;
  // One line longer than the bound is still a page of one: it is read, not pushed.
  if (page.lines.reduce((n, l) => n + l.length + 1, 0) > OUTPUT_TAIL.chars) return undefined;
  return { offset: from, lines: page.lines };
}
