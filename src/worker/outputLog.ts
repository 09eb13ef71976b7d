/**
 * A session's output: the in-memory ring that answers reads, mirrored to disk
 * segments (see shared/outputFiles.ts) so the lines outlive the worker. Disk
 * writes are batched on a short timer: the ingest path stays a string append,
 * and a SIGKILL of the worker loses at most one flush interval.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RingBuffer } from '../shared/ringBuffer';
import { storedLines } from '../shared/sanitize';
import { listSegments, loadOutput, outputDir, segmentName } from '../shared/sessionFiles';

export interface OutputLogOptions {
  sessionDir: string;
  capacity: number;
  maxLineChars: number;
  flushMs: number;
}

export class OutputLog {
  readonly ring: RingBuffer;
  private readonly dir: string;
  private fd: number;
  private segmentLines: number;
  private pending: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: OutputLogOptions) {
    this.dir = outputDir(options.sessionDir);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // A resumed session continues the offsets and lines it already had.
    this.ring = loadOutput(options.sessionDir, options.capacity);
    const segments = listSegments(this.dir);
    const last = segments[segments.length - 1];
    if (last === undefined) {
      this.segmentLines = 0;
      this.fd = fs.openSync(path.join(this.dir, segmentName(this.ring.nextOffset)), 'a', 0o600);
    } else {
      this.segmentLines = this.ring.nextOffset - last;
      this.fd = fs.openSync(path.join(this.dir, segmentName(last)), 'a', 0o600);
    }
  }

  get nextOffset(): number {
    return this.ring.nextOffset;
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
    this.segmentLines++;
    if (this.segmentLines >= this.options.capacity) {
      this.rotate();
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flushSync(), this.options.flushMs);
    }
  }

  /** Writes every pending line to disk now. */
  flushSync(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    fs.writeSync(this.fd, text);
  }

  private rotate(): void {
    this.flushSync();
    fs.closeSync(this.fd);
    // Keep the segment just finished and the new one; anything older is past the ring.
    for (const first of listSegments(this.dir).slice(0, -1)) {
      fs.rmSync(path.join(this.dir, segmentName(first)), { force: true });
    }
    this.fd = fs.openSync(path.join(this.dir, segmentName(this.ring.nextOffset)), 'a', 0o600);
    this.segmentLines = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flushSync();
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
