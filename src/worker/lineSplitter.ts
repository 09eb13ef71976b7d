/**
 * Turns a stream of text chunks into lines. A line split over two reads is one
 * line; "\r\n" and "\n" both end a line; a carriage return inside a line means
 * the terminal rewrote it (progress bars), so only the last rewrite is kept.
 *
 * Linear in the input whatever its shape: each chunk is scanned once, from its
 * own start, and a line still arriving is held as a list of chunks rather than
 * re-joined per read (a 200 MB line without a newline used to cost quadratic
 * time). A line longer than `maxLineChars` is cut into pieces marked as cut
 * (see shared/sanitize.ts), so what is held never grows past that bound.
 */
import { CUT_MARK, cutLong, sanitize } from '../shared/sanitize';

export interface LineSplitterOptions {
  /** Strip terminal escape sequences and control characters (PTY output). */
  terminal: boolean;
  maxLineChars: number;
  /** Publish a pending partial line after this much quiet (0 = never); lets prompts without newline be seen. */
  partialFlushMs: number;
}

export class LineSplitter {
  /** The line still arriving, as the chunks it came in; `pendingChars` is their total length. */
  private pending: string[] = [];
  private pendingChars = 0;
  private partialTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: LineSplitterOptions,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: string): void {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) !== -1) {
      const piece = chunk.slice(start, nl);
      if (this.pendingChars === 0 && piece.length <= this.options.maxLineChars) {
        this.emit(piece); // the common case: a whole line inside one chunk
      } else {
        this.hold(piece);
        this.emit(this.take());
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.hold(start === 0 ? chunk : chunk.slice(start));
    this.schedulePartialFlush();
  }

  /** Emits whatever partial line is pending (end of stream). */
  flush(): void {
    this.clearTimer();
    if (this.pendingChars > 0) this.emit(this.take());
  }

  dispose(): void {
    this.clearTimer();
  }

  /** Adds to the line still arriving; past the bound, its front goes out as marked pieces. */
  private hold(text: string): void {
    if (text.length === 0) return;
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars <= this.options.maxLineChars) return;
    // Joined once per bound's worth of text, not per chunk: linear.
    const rest = cutLong(this.take(), this.options.maxLineChars, (piece) => this.emit(piece, true));
    this.pending = [rest];
    this.pendingChars = rest.length;
  }

  private take(): string {
    const line = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return line;
  }

  private emit(raw: string, cut = false): void {
    let line = raw.endsWith('\r') && !cut ? raw.slice(0, -1) : raw;
    if (this.options.terminal) line = sanitize(line, { keepCr: true });
    if (line.includes('\r')) {
      // Keep the last non-empty rewrite of the line.
      const parts = line.split('\r').filter((p) => p.length > 0);
      line = parts.length ? parts[parts.length - 1] : '';
    }
    this.onLine(cut ? line + CUT_MARK : line);
  }

  private schedulePartialFlush(): void {
    this.clearTimer();
    if (this.options.partialFlushMs > 0 && this.pendingChars > 0) {
      this.partialTimer = setTimeout(() => this.flush(), this.options.partialFlushMs);
      this.partialTimer.unref();
    }
  }

  private clearTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }
}
