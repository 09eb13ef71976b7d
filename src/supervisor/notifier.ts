/**
 * Notifications out (issue 18 item 3): a small JSON POST to NOTIFY_URL when a
 * session needs someone — it waits for an approval, it ended (exited, failed,
 * lost), or it hit its budget. A ntfy topic URL works as is (the JSON is the
 * message; `Title` names the event).
 *
 * Subscribed where the session core reports status changes (its `lifecycle`
 * event), so any status that reaches the journal is seen here. Every
 * notification is queued in the journal before it is sent (a restart delivers
 * what was not yet), sent one at a time off the request path with Node's fetch
 * (never blocking the supervisor), retried with exponential backoff, and the
 * queue is bounded. What is sent: the event, the session id, the agent, the
 * cwd's last path component and a one-line summary — never the token, never
 * output beyond one line. NOTIFY_URL itself may carry a secret (a ntfy topic
 * is one), so logs name only its host.
 */
import path from 'node:path';
import type { Logger } from 'winston';
import { inlineField } from '../shared/sanitize';
import { isEnded } from '../shared/sessionStatus';
import type { Journal, SessionRow } from './journal';
import type { JournalGuard } from './journalGuard';
import { NotifyStore } from './notifyStore';

/**
 * The session core's events, as the notifier reads them: `lifecycle` (status changes) and
 * `approval` (mode ask's requests, issue 15: `{event: 'approval_pending', approvalId, kind}`).
 * Untyped on purpose: it only listens, and an event the core does not emit simply never fires.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node's own EventEmitter listener type; the handlers check what they read.
type Listener = (...args: any[]) => void;
export interface SessionEvents {
  on(event: 'lifecycle' | 'approval', listener: Listener): unknown;
  off(event: 'lifecycle' | 'approval', listener: Listener): unknown;
}

export const NOTIFY_EVENTS = ['awaiting_approval', 'exited', 'failed', 'lost', 'budget_exceeded'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const NotifyTimeouts = {
  /** A receiver that accepts the connection and never answers must not hold the queue. */
  requestMs: 10_000,
  /** First retry after a failed delivery; doubled each time (a receiver restarting is back in seconds). */
  firstRetryMs: 1_000,
  /** The backoff's ceiling: an endpoint down for hours is still tried every few minutes. */
  maxRetryMs: 5 * 60_000,
} as const;

export const NotifyLimits = {
  /** Attempts before a notification is given up (≈ 20 min of backoff): a URL that never works must not retry forever. */
  maxAttempts: 12,
  /** Undelivered notifications kept; past it the oldest are dropped (with a warning), so a dead endpoint cannot fill the disk. */
  maxPending: 1_000,
  /** Finished ones kept as history in the journal. */
  finishedKept: 1_000,
  /** The summary line's length. */
  summaryChars: 200,
} as const;

export interface NotifierOptions {
  url: string;
  events: readonly NotifyEvent[];
  version: string;
  timeouts?: Partial<Record<keyof typeof NotifyTimeouts, number>>;
}

/** Which notification a status change is, if any (an approval wait is its own event, not a status change). */
export function notifyEventOf(status: string, endReason: string | null | undefined): NotifyEvent | null {
  // Only ends: a budget kill passes through `killing` with its endReason already set.
  if (!isEnded(status)) return null;
  if (endReason === 'budget_exceeded') return 'budget_exceeded';
  if (status === 'exited' || status === 'failed' || status === 'lost') return status;
  return null; // running, killing, killed: nobody needs to be told
}

/** The one line a person reads on their phone. */
export function summaryOf(event: NotifyEvent, row: SessionRow, approvalKind?: string): string {
  const where = `${row.agent} in ${path.basename(row.cwd)}`;
  const why = row.error_summary ? `: ${row.error_summary}` : '';
  const text =
    event === 'awaiting_approval'
      ? `${where} is waiting for an approval${approvalKind ? ` (${approvalKind.slice(0, 40)})` : ''}`
      : event === 'exited'
        ? `${where} finished ${row.completed_successfully === 1 ? 'successfully' : `unsuccessfully (exit ${row.exit_code ?? row.signal ?? '?'})${why}`}`
        : event === 'budget_exceeded'
          ? `${where} stopped: budget exceeded${why}`
          : `${where} ${event}${why}`;
  const line = inlineField(text.split('\n')[0]);
  return line.length > NotifyLimits.summaryChars ? line.slice(0, NotifyLimits.summaryChars - 1) + '…' : line;
}

/** user:password of a URL as typed (percent-decoded), or as is when the escapes are malformed. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export class Notifier {
  private readonly store: NotifyStore;
  private readonly timeouts: Record<keyof typeof NotifyTimeouts, number>;
  private readonly host: string;
  /** NOTIFY_URL without user:password@ (fetch refuses those), which become a Basic Authorization header. */
  private readonly target: string;
  private readonly auth: Record<string, string>;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  private sending = false;
  private closed = false;
  private detach: (() => void) | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly guard: JournalGuard,
    private readonly log: Logger,
    private readonly opts: NotifierOptions,
  ) {
    this.store = new NotifyStore(journal);
    this.timeouts = { ...NotifyTimeouts, ...opts.timeouts };
    const url = new URL(opts.url);
    this.host = url.host;
    this.auth = url.username || url.password ? { authorization: `Basic ${Buffer.from(`${decoded(url.username)}:${decoded(url.password)}`).toString('base64')}` } : {};
    url.username = '';
    url.password = '';
    this.target = url.href;
  }

  /** Subscribes to the session core's status changes and sends what a previous process left undelivered. */
  start(sessions: SessionEvents): void {
    const onLifecycle = (id: string, status: string, detail: Record<string, unknown>) => this.onStatus(id, status, detail);
    const onApproval = (id: string, detail: Record<string, unknown>) => this.onApproval(id, detail);
    sessions.on('lifecycle', onLifecycle);
    sessions.on('approval', onApproval);
    this.detach = () => {
      sessions.off('lifecycle', onLifecycle);
      sessions.off('approval', onApproval);
    };
    this.guard.write(() => this.store.allDueNow());
    this.pump();
  }

  private onStatus(id: string, status: string, detail: Record<string, unknown>): void {
    if (this.closed) return;
    const row = this.journal.get(id);
    if (!row) return;
    const event = notifyEventOf(status, (detail.endReason as string | null | undefined) ?? row.end_reason);
    // A re-attach reports an end again (or for the first time, if it came while agentvisor was down): the key sends it once.
    if (event) this.enqueue(event, row, status, `${id}:${event}:${row.ended_at ?? ''}`);
  }

  private onApproval(id: string, detail: Record<string, unknown>): void {
    if (this.closed || detail.event !== 'approval_pending' || typeof detail.approvalId !== 'string') return;
    const row = this.journal.get(id);
    // Each request once, however often it is reported (a re-attach reconciles the pending ones).
    if (row) this.enqueue('awaiting_approval', row, 'awaiting_approval', `${id}:approval:${detail.approvalId}`, typeof detail.kind === 'string' ? detail.kind : undefined);
  }

  private enqueue(event: NotifyEvent, row: SessionRow, status: string, dedupeKey: string, approvalKind?: string): void {
    if (!this.opts.events.includes(event)) return;
    const id = row.id;
    const payload = JSON.stringify({
      event,
      sessionId: id,
      agent: row.agent,
      cwd: path.basename(row.cwd),
      status,
      completedSuccessfully: row.completed_successfully === null ? null : row.completed_successfully === 1,
      summary: summaryOf(event, row, approvalKind),
      at: new Date().toISOString(),
    });
    this.guard.write(() => {
      if (!this.store.add({ dedupeKey, sessionId: id, event, payload })) return;
      const dropped = this.store.dropBeyond(NotifyLimits.maxPending);
      if (dropped > 0) this.log.warn('notification queue full: oldest dropped', { dropped, max: NotifyLimits.maxPending, host: this.host });
    });
    this.pump();
  }

  /** Sends what is due, one at a time; then sleeps until the next retry falls due. */
  private pump(): void {
    if (this.sending || this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.store.nextDue(new Date().toISOString());
    if (!due) {
      const next = this.store.earliestPending();
      if (next) this.schedule(Date.parse(next) - Date.now());
      return;
    }
    this.sending = true;
    void this.send(due.payload, due.event).then((error) => {
      this.sending = false;
      if (this.closed) return; // the journal may be closed by now; the row stays pending for the next start
      this.guard.write(() => {
        if (error === null) this.store.finish(due.id, 'delivered');
        else if (due.attempts + 1 >= NotifyLimits.maxAttempts) {
          this.store.finish(due.id, 'gave_up', error);
          this.log.warn('notification given up', { event: due.event, sessionId: due.session_id, attempts: due.attempts + 1, error, host: this.host });
        } else {
          const wait = Math.min(this.timeouts.maxRetryMs, this.timeouts.firstRetryMs * 2 ** due.attempts);
          this.store.retryLater(due.id, new Date(Date.now() + wait).toISOString(), error);
          this.log.info('notification not delivered; retrying', { event: due.event, sessionId: due.session_id, attempt: due.attempts + 1, retryInMs: wait, error, host: this.host });
        }
        this.store.forgetFinishedBeyond(NotifyLimits.finishedKept);
      });
      // A journal that cannot be written keeps the outcome for later: the same row is still due, and
      // sending it again at once would hammer the receiver in a loop. Wait as long as the backoff's ceiling.
      if (this.guard.unwritable) this.schedule(this.timeouts.maxRetryMs);
      else this.pump();
    });
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.pump(), Math.max(0, ms));
    this.timer.unref();
  }

  /** One POST; null when the receiver took it (2xx), else why not. */
  private async send(payload: string, event: string): Promise<string | null> {
    const abort = new AbortController();
    this.inFlight = abort;
    const timer = setTimeout(() => abort.abort(), this.timeouts.requestMs);
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': `agentvisor/${this.opts.version}`, title: `agentvisor: ${event}`, ...this.auth },
        body: payload,
        // The payload goes to the URL the operator configured, not wherever a redirect points.
        redirect: 'error',
        signal: abort.signal,
      });
      // Only the status matters. The body is cancelled, not read: an unread body holds the
      // connection, and reading it would take whatever an endpoint sends, for as long as it sends.
      await res.body?.cancel().catch(() => undefined);
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      // Never e.message: fetch's messages may quote the URL, which can hold a secret.
      return abort.signal.aborted ? `no answer within ${this.timeouts.requestMs} ms` : (e.cause?.code ?? `request failed (${e.name})`);
    } finally {
      clearTimeout(timer);
      if (this.inFlight === abort) this.inFlight = undefined;
    }
  }

  /** Undelivered notifications (for /health). */
  pending(): number {
    return this.store.pendingCount();
  }

  close(): void {
    this.closed = true;
    this.detach?.();
    clearTimeout(this.timer);
    this.inFlight?.abort();
  }
}
