/**
 * Turns a stream of text chunks into lines. A line split over two reads is one
 * line; "\r\n" and "\n" both end a line; a carriage return inside a line means
 * the terminal rewrote it (progress bars), so only the last rewrite is kept.
 * Lines longer than `maxLineChars` are cut into pieces rather than held
 * without bound.
 */
import stripAnsi from 'strip-ansi';

export interface LineSplitterOptions {
  /** Strip terminal escape sequences and control characters (PTY output). */
  terminal: boolean;
  maxLineChars: number;
  /** Publish a pending partial line after this much quiet (0 = never); lets prompts without newline be seen. */
  partialFlushMs: number;
}

// C0 controls other than tab, plus DEL, left over after escape sequences are removed.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f]/g;
// Any character the cleaning in emit() acts on: C0 controls but tab and newline (CR and ESC
// among them), DEL, and the 8-bit CSI that strip-ansi also removes.
// eslint-disable-next-line no-control-regex
const NEEDS_CLEANING = /[\x00-\x08\x0b-\x1f\x7f\x9b]/;

export class LineSplitter {
  private pending = '';
  private partialTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LineSplitterOptions, private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const data = this.pending + chunk;
    let start = 0;
    let nl: number;
    while ((nl = data.indexOf('\n', start)) !== -1) {
      this.emit(data.slice(start, nl));
      start = nl + 1;
    }
    this.pending = start === 0 ? data : data.slice(start);
    while (this.pending.length > this.options.maxLineChars) {
      this.emit(this.pending.slice(0, this.options.maxLineChars));
      this.pending = this.pending.slice(this.options.maxLineChars);
    }
    this.schedulePartialFlush();
  }

  /** Emits whatever partial line is pending (end of stream). */
  flush(): void {
    this.clearTimer();
    if (this.pending.length > 0) {
      const rest = this.pending;
      this.pending = '';
      this.emit(rest);
    }
  }

  dispose(): void {
    this.clearTimer();
  }

  private emit(raw: string): void {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Most lines hold no escape, carriage return or control character: nothing below would
    // change them, and skipping it keeps a PTY's ingest cost near a pipe's.
    if (!NEEDS_CLEANING.test(line)) {
      this.deliver(line);
      return;
    }
    if (this.options.terminal) line = stripAnsi(line.replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '')); // OSC (title, hyperlink) first: strip-ansi 6 mangles those with spaces or an ST end
    const cr = line.lastIndexOf('\r');
    if (cr !== -1) {
      // Keep the last non-empty rewrite of the line.
      const parts = line.split('\r').filter((p) => p.length > 0);
      line = parts.length ? parts[parts.length - 1] : '';
    }
    if (this.options.terminal) line = line.replace(CONTROL_CHARS, '');
    this.deliver(line);
  }

  private deliver(line: string): void {
    for (let i = 0; i < line.length || i === 0; i += this.options.maxLineChars) {
      this.onLine(line.slice(i, i + this.options.maxLineChars));
      if (line.length === 0) break;
    }
  }

  private schedulePartialFlush(): void {
    this.clearTimer();
    if (this.options.partialFlushMs > 0 && this.pending.length > 0) {
      this.partialTimer = setTimeout(() => this.flush(), this.options.partialFlushMs);
      this.partialTimer.unref();
    }
  }

  private clearTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }
}
