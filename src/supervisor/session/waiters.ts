/**
 * The callers blocked on one session (session_wait, session_start's first
 * output, kill's reply): woken on every output or state event, each re-checks
 * its own condition. Owned by the live-worker record; cancelled with it on close.
 */
export class Waiters {
  private readonly pending = new Set<{ check: () => void; cancel: () => void }>();

  /** Resolves true when `pred` holds, false on timeout, abort or cancelAll. */
  wait(pred: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.pending.delete(entry);
        signal?.removeEventListener('abort', cancel);
        resolve(v);
      };
      const check = () => {
        if (pred()) done(true);
      };
      const cancel = () => done(false);
      const entry = { check, cancel };
      const timer = setTimeout(cancel, timeoutMs);
      this.pending.add(entry);
      // A request cancelled before we got here never fires 'abort' again.
      if (signal?.aborted) return done(false);
      signal?.addEventListener('abort', cancel, { once: true });
      check();
    });
  }

  wake(): void {
    for (const w of [...this.pending]) w.check();
  }

  cancelAll(): void {
    for (const w of [...this.pending]) w.cancel();
  }

  get size(): number {
    return this.pending.size;
  }
}
