/**
 * The session's outcome on disk (`final.json`), written atomically. A disk that
 * refuses it (full, read-only) does not crash the worker: the record is kept
 * in memory and retried with backoff, and the worker does not exit before it
 * is written, so the outcome of a session is never only in a dead process.
 */
import fs from 'node:fs';
import type { WorkerLog } from './workerLog';
import { OutputDiskTimeouts } from './outputLog';

export class FinalRecord {
  private written = false;
  private timer: NodeJS.Timeout | undefined;
  private retryMs: number = OutputDiskTimeouts.retryFirstMs;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly file: string,
    private readonly log: WorkerLog,
  ) {}

  get isWritten(): boolean {
    return this.written;
  }

  /** Writes `data` now or keeps retrying until it lands; never throws. */
  write(data: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const tmp = this.file + '.tmp';
    try {
      fs.writeFileSync(tmp, data, { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (err) {
      // A half-written temporary file is never renamed into place; take it away.
      fs.rmSync(tmp, { force: true });
      this.log.warn('final record not written; retrying', { error: (err as Error).message, retryMs: this.retryMs });
      this.timer = setTimeout(() => this.write(data), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, OutputDiskTimeouts.retryMaxMs);
      return;
    }
    this.written = true;
    for (const cb of this.waiting.splice(0)) cb();
  }

  /** Runs `cb` once the record is on disk (at once if it is). */
  whenWritten(cb: () => void): void {
    if (this.written) cb();
    else this.waiting.push(cb);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
