/**
 * Fixed-capacity line buffer addressed by absolute offsets: line N is the Nth
 * line the session ever produced. Appending is O(1) (a write at head, no
 * splicing); once full, the oldest line is overwritten and `firstOffset`
 * advances, so a reader asking for an older offset learns how many lines it
 * missed instead of silently getting the wrong ones.
 */
export interface ReadResult {
  lines: string[];
  /** Absolute offset of lines[0]. */
  offset: number;
  /** Where the next read should start. */
  nextOffset: number;
  /** Lines between the requested `since` and the oldest kept line that are gone. */
  dropped: number;
  /** True when lines past nextOffset exist (the page was cut by limit or bytes). */
  hasMore: boolean;
}

/**
 * The lines from `start` (before `end`) that make one page: at most `limit` lines and
 * about `maxBytes` of UTF-16 text, always at least one line. The one rule for cutting
 * a page, shared by the worker's ring and the supervisor's copy of the newest lines.
 */
export function cutPage(lineAt: (offset: number) => string, start: number, end: number, limit: number, maxBytes: number): { lines: string[]; end: number } {
  const lines: string[] = [];
  let bytes = 0;
  let at = start;
  while (at < end && lines.length < limit) {
    const line = lineAt(at);
    bytes += line.length + 1;
    if (lines.length > 0 && bytes > maxBytes) break;
    lines.push(line);
    at++;
  }
  return { lines, end: at };
}

export class RingBuffer {
  private readonly slots: string[];
  private total = 0;

  constructor(
    readonly capacity: number,
    private readonly startOffset = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.slots = new Array<string>(capacity);
    this.total = startOffset;
  }

  /** Offset the next appended line will get; equals the number of lines ever produced. */
  get nextOffset(): number {
    return this.total;
  }

  /** Oldest offset still held. */
  get firstOffset(): number {
    // A ring that starts at an offset (resumed output) never held the lines before it.
    return Math.max(this.startOffset, this.total - this.capacity);
  }

  get size(): number {
    return this.total - this.firstOffset;
  }

  push(line: string): void {
    this.slots[this.total % this.capacity] = line;
    this.total++;
  }

  /** Lines from `since` on, at most `limit` lines and about `maxBytes` of UTF-16 text (always at least one line). */
  read(since: number, limit: number, maxBytes = Infinity): ReadResult {
    const first = this.firstOffset;
    let start = since;
    let dropped = 0;
    if (start < first) {
      dropped = first - start;
      start = first;
    }
    const { lines, end: at } = cutPage((o) => this.slots[o % this.capacity], start, this.total, limit, maxBytes);
    // A `since` in the future is answered with nothing and the true next offset.
    const nextOffset = start > this.total ? this.total : at;
    return { lines, offset: Math.min(start, this.total), nextOffset, dropped, hasMore: nextOffset < this.total };
  }
}
