/**
 * The journal's queue of notifications for NOTIFY_URL (table `notifications`, migration 5).
 * A notification is written here before it is sent, so a restart (or a crash) delivers what
 * was not yet; `dedupe_key` makes the same session end, seen twice (a re-attach after a
 * restart), one notification.
 */
import type { Journal } from './journal';

export interface NotificationRow {
  id: number;
  dedupe_key: string | null;
  session_id: string | null;
  event: string;
  payload: string;
  created_at: string;
  attempts: number;
  next_at: string;
  last_error: string | null;
  done_at: string | null;
  outcome: string | null;
}

export type Outcome = 'delivered' | 'gave_up' | 'dropped';

export class NotifyStore {
  constructor(private readonly journal: Journal) {}

  /** Queues one; false when its dedupe key was queued before. */
  add(n: { dedupeKey: string | null; sessionId: string | null; event: string; payload: string }): boolean {
    const at = new Date().toISOString();
    return (
      this.journal
        .stmt('INSERT OR IGNORE INTO notifications (dedupe_key, session_id, event, payload, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(n.dedupeKey, n.sessionId, n.event, n.payload, at, at).changes === 1
    );
  }

  /** The oldest undelivered one due by `now`, if any. */
  nextDue(now: string): NotificationRow | undefined {
    return this.journal.stmt('SELECT * FROM notifications WHERE done_at IS NULL AND next_at <= ? ORDER BY id LIMIT 1').get(now) as NotificationRow | undefined;
  }

  /** When the next undelivered one falls due (ISO time), or null when none waits. */
  earliestPending(): string | null {
    return (this.journal.stmt('SELECT MIN(next_at) AS at FROM notifications WHERE done_at IS NULL').get() as { at: string | null }).at;
  }

  pendingCount(): number {
    return (this.journal.stmt('SELECT COUNT(*) AS n FROM notifications WHERE done_at IS NULL').get() as { n: number }).n;
  }

  /** Everything undelivered is due now: a restart does not wait out a backoff the old process started. */
  allDueNow(): void {
    this.journal.stmt('UPDATE notifications SET next_at = ? WHERE done_at IS NULL').run(new Date().toISOString());
  }

  retryLater(id: number, nextAt: string, error: string): void {
    this.journal.stmt('UPDATE notifications SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?').run(nextAt, error, id);
  }

  finish(id: number, outcome: Outcome, error: string | null = null): void {
    this.journal
      .stmt("UPDATE notifications SET attempts = attempts + (? != 'dropped'), done_at = ?, outcome = ?, last_error = COALESCE(?, last_error) WHERE id = ?")
      .run(outcome, new Date().toISOString(), outcome, error, id);
  }

  /** Drops the oldest undelivered ones beyond `max` (the queue is bounded); returns how many. */
  dropBeyond(max: number): number {
    return this.journal
      .stmt(
        `UPDATE notifications SET done_at = ?, outcome = 'dropped' WHERE id IN (
           SELECT id FROM notifications WHERE done_at IS NULL ORDER BY id DESC LIMIT -1 OFFSET ?)`,
      )
      .run(new Date().toISOString(), max).changes;
  }

  /** Forgets finished ones beyond the newest `keep` (they are history, kept for the operator to read). */
  forgetFinishedBeyond(keep: number): void {
    this.journal.stmt('DELETE FROM notifications WHERE done_at IS NOT NULL AND id NOT IN (SELECT id FROM notifications WHERE done_at IS NOT NULL ORDER BY id DESC LIMIT ?)').run(keep);
  }
}
