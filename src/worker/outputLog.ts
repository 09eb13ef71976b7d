/**
 * A session's output: the in-memory ring that answers reads, mirrored to disk
 * segments (see shared/sessionFiles.ts) so the lines outlive the worker. Disk
 * writes are batched on a short timer: the ingest path stays a string append,
 * and a SIGKILL of the worker loses at most one flush interval.
 *
 * A disk that refuses a write (full, read-only, gone) never costs the session:
 * the lines stay in memory (at most one ring's worth), the disk is retried with
 * backoff, and the output itself says that it is not being persisted. A batch
 * reaches the disk whole or not at all, so a segment never ends in half a line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RingBuffer } from '../shared/ringBuffer';
import { storedLines } from '../shared/sanitize';
import { listSegments, loadOutput, outputDir, segmentName } from '../shared/sessionFiles';

/** Also the final record's (finalRecord.ts): the same disk, refusing for the same reasons. */
export const OutputDiskTimeouts = {
  /** First retry after a refused write: space often comes back quickly (a log rotated, a temp file removed). */
  retryFirstMs: 100,
  /** Retries back off up to this: a full disk is polled, not hammered. */
  retryMaxMs: 2_000,
} as const;

/** What the session's output says when the disk refuses its lines, and when it takes them again. */
export const NOT_PERSISTED_LINE = (why: string) => `[agentvisor] output not persisted: ${why}`;
export const PERSISTED_AGAIN_LINE = '[agentvisor] output persisted again';

export interface OutputLogOptions {
  sessionDir: string;
  capacity: number;
  maxLineChars: number;
  flushMs: number;
  /** Told when the disk starts refusing output (a reason) and when it takes it again (null). */
  onDiskProblem?: (problem: string | null) => void;
}

/** A short reason for an operator: "disk full" rather than an errno dump. */
function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk full';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'output directory missing';
  return code ?? (err as Error).message ?? String(err);
}

export class OutputLog {
  readonly ring: RingBuffer;
  private readonly dir: string;
  /** The open segment: its first offset, how many lines of it are on disk, and its size in bytes. */
  private fd: number | undefined;
  private segmentFirst = 0;
  private segmentLines = 0;
  private segmentBytes = 0;
  /** Lines in the ring but not yet on disk, the first of them at offset pendingFrom. */
  private pending: string[] = [];
  private pendingFrom: number;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number = OutputDiskTimeouts.retryFirstMs;
  private problem: string | null = null;
  private closed = false;

  constructor(private readonly options: OutputLogOptions) {
    this.dir = outputDir(options.sessionDir);
    // A resumed session continues the offsets and lines it already had.
    this.ring = loadOutput(options.sessionDir, options.capacity);
    this.pendingFrom = this.ring.nextOffset;
    const last = listSegments(this.dir).pop();
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      if (last !== undefined) this.open(last, this.ring.nextOffset - last);
    } catch (err) {
      this.fail(err);
    }
  }

  get nextOffset(): number {
    return this.ring.nextOffset;
  }

  /** Why output is not reaching the disk right now, or null when it is. */
  get diskProblem(): string | null {
    return this.problem;
  }

  append(line: string): void {
    if (this.closed) return;
    // Whatever the agent printed, a stored line holds no control character and no newline:
    // memory and disk then count the same lines, and the offsets hold after the session ends.
    for (const one of storedLines(line, this.options.maxLineChars)) this.appendOne(one);
  }

  private appendOne(line: string): void {
    this.ring.push(line);
    this.pending.push(line);
    // Memory stays bounded while the disk refuses: past one ring's worth the oldest
    // unwritten lines are given up (readers lost them from the ring too).
    if (this.pending.length > this.options.capacity) {
      this.pending.shift();
      this.pendingFrom++;
    }
    if (this.problem) return;
    // A full segment is written and rotated at once, so a segment never holds more than a ring.
    if (this.segmentLines + this.pending.length >= this.options.capacity) this.flushSync();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flushSync(), this.options.flushMs);
  }

  /** Writes every pending line to disk now; while the disk is refusing, only the retry timer tries. */
  flushSync(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.closed || this.problem) return;
    this.write();
  }

  private write(): void {
    try {
      while (this.pending.length > 0) {
        // A new segment when none is open, the open one is full, or lines were given up (a gap).
        if (this.fd === undefined || this.segmentLines >= this.options.capacity || this.segmentFirst + this.segmentLines !== this.pendingFrom) {
          this.rotate();
        }
        const n = Math.min(this.pending.length, this.options.capacity - this.segmentLines);
        this.writeWhole(this.pending.slice(0, n).join('\n') + '\n');
        this.pending.splice(0, n);
        this.pendingFrom += n;
        this.segmentLines += n;
      }
      if (this.segmentLines >= this.options.capacity) this.rotate();
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.problem) this.recovered();
  }

  /** Appends `text` entirely or, if the disk refuses part of it, takes the part back off. */
  private writeWhole(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < buf.length) {
        const n = fs.writeSync(this.fd!, buf, done, buf.length - done);
        // A zero-byte write makes no progress: treat it as the disk being full.
        if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        done += n;
      }
    } catch (err) {
      if (done > 0) {
        try {
          fs.ftruncateSync(this.fd!, this.segmentBytes);
        } catch {
          // Shrinking needs no space; if even that fails the reader drops the unterminated tail.
        }
      }
      throw err;
    }
    this.segmentBytes += buf.length;
  }

  private open(first: number, linesOnDisk: number): void {
    const file = path.join(this.dir, segmentName(first));
    const fd = fs.openSync(file, 'a', 0o600);
    this.fd = fd;
    this.segmentFirst = first;
    this.segmentLines = linesOnDisk;
    this.segmentBytes = fs.fstatSync(fd).size;
    // Half a line left by a worker killed mid-write (loadOutput skipped it): cut it off, so
    // the next line does not continue it.
    if (this.segmentBytes > 0) {
      const text = fs.readFileSync(file);
      const whole = text.lastIndexOf(0x0a) + 1;
      if (whole < text.length) {
        fs.ftruncateSync(fd, whole);
        this.segmentBytes = whole;
      }
    }
  }

  private rotate(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Keep the segment just finished and the new one; anything older is past the ring.
    for (const first of listSegments(this.dir)
      .filter((f) => f !== this.pendingFrom)
      .slice(0, -1)) {
      fs.rmSync(path.join(this.dir, segmentName(first)), { force: true });
    }
    // A segment left by an earlier failed attempt at this offset holds only whole lines we rewrite.
    fs.rmSync(path.join(this.dir, segmentName(this.pendingFrom)), { force: true });
    this.open(this.pendingFrom, 0);
  }

  private fail(err: unknown): void {
    const first = this.problem === null;
    this.problem = describe(err);
    if (first) {
      this.retryMs = OutputDiskTimeouts.retryFirstMs;
      // Said in the output itself, where whoever reads the session looks.
      this.ring.push(NOT_PERSISTED_LINE(this.problem));
      this.pending.push(NOT_PERSISTED_LINE(this.problem));
      this.options.onDiskProblem?.(this.problem);
    }
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.write();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, OutputDiskTimeouts.retryMaxMs);
  }

  private recovered(): void {
    this.problem = null;
    this.retryMs = OutputDiskTimeouts.retryFirstMs;
    this.appendOne(PERSISTED_AGAIN_LINE);
    this.options.onDiskProblem?.(null);
  }

  /** Last attempt to write what is pending; the caller goes on whatever the disk says. */
  close(): void {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.flushTimer = this.retryTimer = undefined;
    this.problem = null;
    this.closed = true;
    this.write();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
