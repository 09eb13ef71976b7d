/**
 * The newest lines of a live session, as its output events carried them
 * (protocol OUTPUT_TAIL): a client waiting for the next lines is answered from
 * here instead of by a read round trip to the worker, which under load costs a
 * wake-up of a busy worker process and two more frames. Only a contiguous run
 * that ends at the newest offset the worker announced is ever used; anything
 * else (a gap, an older offset, a reconnect) falls back to asking the worker.
 */
import { type ReadResult, cutPage } from '../../shared/ringBuffer';
import type { OutputTail } from '../../shared/protocol';

export class RecentLines {
  private start = 0;
  private lines: string[] = [];
  private chars = 0;

  /**
   * At most `maxChars` of text are kept (the oldest lines go first): bounded memory per
   * session. `maxLines` is the worker's ring size: a line the worker no longer holds must
   * not be served from here, or a read would get lines where the worker says `dropped`.
   */
  constructor(
    private readonly maxChars: number,
    private readonly maxLines: number,
  ) {}

  /** The offset after the last line held. */
  get end(): number {
    return this.start + this.lines.length;
  }

  /** An output event: its tail extends the run, or starts a new one after a gap; no tail clears it. */
  note(nextOffset: number, tail: OutputTail | undefined): void {
    if (!tail || tail.offset + tail.lines.length !== nextOffset) return this.clear();
    if (tail.offset !== this.end) {
      this.clear();
      this.start = tail.offset;
    }
    for (const line of tail.lines) {
      this.lines.push(line);
      this.chars += line.length + 1;
    }
    let drop = 0;
    while ((this.chars > this.maxChars || this.lines.length - drop > this.maxLines) && drop < this.lines.length) this.chars -= this.lines[drop++].length + 1;
    if (drop > 0) {
      this.lines = this.lines.slice(drop);
      this.start += drop;
    }
  }

  clear(): void {
    this.start = 0;
    this.lines = [];
    this.chars = 0;
  }

  /**
   * The page the worker's ring would answer for this read (RingBuffer.read), when
   * every line it needs is held and `newest` (the offset the supervisor knows) is
   * where the run ends; undefined means: ask the worker.
   */
  read(since: number, limit: number, maxBytes: number, newest: number): ReadResult | undefined {
    if (this.lines.length === 0 || this.end !== newest || since < this.start || since > this.end) return undefined;
    const { lines, end } = cutPage((o) => this.lines[o - this.start], since, this.end, limit, maxBytes);
    return { lines, offset: since, nextOffset: end, dropped: 0, hasMore: end < this.end };
  }
}
