/**
 * Keeps a journal that cannot be written (full disk, unwritable WAL) from
 * taking the supervisor down. Writes that record what already happened (a
 * worker's state, an input event) are kept in memory, in order, and retried
 * with backoff until the journal takes them; writes that would make something
 * new happen (a session start) are refused with a clear error meanwhile.
 */
import type { Logger } from 'winston';
import { SessionError } from './sessionError';

export const JournalRetryTimeouts = {
  /** First retry of a refused journal write: space often comes back quickly. */
  firstMs: 200,
  /** Retries back off up to this: a full disk is polled, not hammered. */
  maxMs: 5_000,
} as const;

/** Writes kept while the journal refuses them; past this the oldest are given up (and logged). */
const MAX_KEPT_WRITES = 10_000;

/** A short reason for an operator, from SQLite's or the file system's error. */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'SQLITE_FULL' || e.code === 'ENOSPC') return 'disk full';
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_IOERR')) return `disk I/O error (${e.code})`;
  if (e.code === 'SQLITE_READONLY' || e.code?.startsWith('SQLITE_READONLY')) return 'read-only';
  return e.message ?? String(err);
}

export class JournalGuard {
  private readonly kept: Array<() => void> = [];
  private problem: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private retryMs: number = JournalRetryTimeouts.firstMs;
  private given = 0;
  private caughtUp: Array<() => void> = [];
  private closed = false;

  /**
   * `recordRecovery` writes to the journal that it was unwritable: an operator's record, and the
   * probe that proves it writable again when nothing else was waiting (a refused start keeps nothing).
   */
  constructor(
    private readonly log: Logger,
    private readonly recordRecovery: (detail: { problem: string; givenUp: number }) => void,
  ) {}

  /** Why the journal cannot be written right now, or null. */
  get unwritable(): string | null {
    return this.problem;
  }

  /** A record of what already happened: written now if possible, else kept and retried. Never throws. */
  write(fn: () => void): void {
    if (this.problem) return this.keep(fn);
    try {
      fn();
    } catch (err) {
      this.keep(fn);
      this.fail(err);
    }
  }

  /** A write that must land before anything is done or promised: throws a SessionError when it cannot. */
  mustWrite<T>(fn: () => T): T {
    if (this.problem) throw this.refusal();
    try {
      return fn();
    } catch (err) {
      this.fail(err);
      throw this.refusal();
    }
  }

  /** Throws a clear SessionError while the journal cannot be written: for calls that change state. */
  assertWritable(): void {
    if (this.problem) throw this.refusal();
  }

  /** Resolves once nothing is kept (at once when the journal is fine). */
  whenCaughtUp(): Promise<void> {
    if (!this.problem) return Promise.resolve();
    return new Promise((resolve) => this.caughtUp.push(resolve));
  }

  close(): void {
    // Stopping with writes still refused: they are lost with this process; say how many.
    if (this.kept.length > 0) this.log.warn('stopping with journal writes not recorded', { count: this.kept.length, problem: this.problem });
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refusal(): SessionError {
    return new SessionError(`the journal cannot be written (${this.problem}): agentvisor keeps serving reads and retries, but refuses changes until it can record them. Free space in STATE_DIR.`);
  }

  private keep(fn: () => void): void {
    this.kept.push(fn);
    if (this.kept.length > MAX_KEPT_WRITES) {
      this.kept.shift();
      this.given++;
    }
  }

  private fail(err: unknown): void {
    const first = this.problem === null;
    this.problem = describe(err);
    if (first) {
      this.retryMs = JournalRetryTimeouts.firstMs;
      this.log.error('journal cannot be written; keeping its writes in memory and retrying', { problem: this.problem, error: (err as Error).message });
    }
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retry();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, JournalRetryTimeouts.maxMs);
  }

  private retry(): void {
    while (this.kept.length > 0) {
      try {
        this.kept[0]();
      } catch (err) {
        this.fail(err);
        return;
      }
      this.kept.shift();
    }
    try {
      this.recordRecovery({ problem: this.problem ?? 'unknown', givenUp: this.given });
    } catch (err) {
      this.fail(err);
      return;
    }
    this.log.warn('journal writable again; kept writes recorded', { problem: this.problem, givenUp: this.given });
    this.problem = null;
    this.given = 0;
    for (const resolve of this.caughtUp.splice(0)) resolve();
  }
}
