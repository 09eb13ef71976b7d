/**
 * Notices a worker that stays connected but does not answer (SIGSTOPped, starved,
 * wedged in a loop): the socket alone cannot tell, since the kernel keeps it open.
 * Every interval the worker is asked for its state, one question at a time; one
 * left unanswered for the grace reports the worker unresponsive, and its answer,
 * however late, reports it healthy again.
 *
 * A hung worker's session is NOT ended, however long it hangs (unlike VS Code's
 * pty host, which gives up after reporting). The worker is a supervisor of its
 * own: its agent runs in its own process group and keeps working, and a stopped
 * worker is most often stopped on purpose (a debugger, job control, a frozen
 * cgroup) and continues with every line on disk. Ending the session would kill
 * work that may still finish, on a guess; the report (log line, /health, the
 * session's workerUnresponsive) leaves that call to the operator, who can kill
 * the worker's process group (its pid is in the journal), after which the
 * dropped connection is reconciled like any dead worker.
 */
import type { WorkerClient } from '../workerClient';

export interface HeartbeatHooks {
  /** The ping sent at `since` went unanswered for the grace. */
  unresponsive(since: Date): void;
  /** The worker answered after it had been reported unresponsive. */
  responsive(silentMs: number): void;
}

export class Heartbeat {
  private readonly interval: NodeJS.Timeout;
  private graceTimer: NodeJS.Timeout | undefined;
  /** When the unanswered ping was sent; null when none is out. */
  private sentAt: Date | null = null;
  private reported = false;
  private stopped = false;

  constructor(
    private readonly client: WorkerClient,
    private readonly timing: { intervalMs: number; graceMs: number },
    private readonly hooks: HeartbeatHooks,
  ) {
    this.interval = setInterval(() => this.ping(), timing.intervalMs);
    // A supervisor with nothing else to do must still be able to exit.
    this.interval.unref();
  }

  private ping(): void {
    if (this.sentAt || this.stopped || this.client.isClosed) return; // one question at a time: a hung worker gets no pile of them
    const sentAt = (this.sentAt = new Date());
    this.graceTimer = setTimeout(() => {
      if (this.sentAt !== sentAt || this.stopped) return;
      this.reported = true;
      this.hooks.unresponsive(sentAt);
    }, this.timing.graceMs);
    this.graceTimer.unref();
    const answered = () => {
      if (this.sentAt !== sentAt) return;
      clearTimeout(this.graceTimer);
      this.sentAt = null;
      if (!this.reported || this.stopped) return;
      this.reported = false;
      this.hooks.responsive(Date.now() - sentAt.getTime());
    };
    // Past the request timeout the answer comes to onLate, so a worker continued after a long stop is still seen answering.
    this.client.request('state', {}, answered).then(answered, () => {
      // A timeout is answered later through onLate; a dropped connection stops us (the owner reconnects or ends the session).
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.graceTimer);
  }
}
