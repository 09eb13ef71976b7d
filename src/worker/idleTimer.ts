/**
 * A session's idle timer: IDLE_TIMEOUT with no output and no input ends it. One timer re-armed
 * lazily when it fires: resetting a timer per output line would cost more than the line.
 */
export class IdleTimer {
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param live   false once the session is ending: the timer then stops for good.
   * @param waiting true while the agent waits for a decision (issue 15): not idle, whoever decides may take their time.
   */
  constructor(
    private readonly ms: number,
    private readonly live: () => boolean,
    private readonly waiting: () => boolean,
    private readonly onIdle: () => void,
  ) {}

  touch(): void {
    this.lastActivity = Date.now();
  }

  start(): void {
    const due = this.lastActivity + this.ms - Date.now();
    this.timer = setTimeout(
      () => {
        if (!this.live()) return;
        if (this.waiting()) this.touch();
        if (Date.now() - this.lastActivity >= this.ms) this.onIdle();
        else this.start();
      },
      Math.max(due, 10),
    );
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
