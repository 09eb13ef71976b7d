/**
 * Bounded memory of ended sessions: past ENDED_SESSIONS_KEPT, the oldest ended
 * sessions are forgotten whole - directory on disk, journal row and events - so
 * the journal, session_list and /health stay the size of what is kept, not of
 * every session ever run. Running sessions are never touched. Events of no
 * session (supervisor starts and stops) are bounded alongside.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'winston';
import { Limits } from '../shared/constants';
import type { Journal } from './journal';

/** Rows forgotten per transaction: a first start over a large journal must not hold the write lock for long. */
const FORGET_BATCH = 500;

/**
 * Forgets the ended sessions beyond the newest `keep`; returns the ids forgotten.
 * Directories go first: a crash in between leaves a row whose files are gone,
 * which reads already handle ("no longer kept"), never files no row points at.
 * Never throws: it runs after a session ends and at start-up, where a failure
 * (a directory that will not go, a full disk) must not cost anything but the
 * pruning, which the next end retries.
 */
export function forgetEndedBeyond(journal: Journal, keep: number, sessionsRoot: string, log: Logger): string[] {
  const forgettable: string[] = [];
  const forgotten: string[] = [];
  try {
    const root = path.resolve(sessionsRoot);
    for (const row of journal.endedBeyond(keep)) {
      // Only a directory under our own sessions root: a damaged row must not aim rmSync elsewhere.
      const dir = path.resolve(row.session_dir);
      try {
        if (path.dirname(dir) === root && path.basename(dir) === row.id) fs.rmSync(dir, { recursive: true, force: true });
        forgettable.push(row.id);
      } catch (err) {
        log.warn("could not remove an ended session's directory; it is kept until the next try", { sessionId: row.id, error: (err as Error).message });
      }
    }
    for (let i = 0; i < forgettable.length; i += FORGET_BATCH) {
      const batch = forgettable.slice(i, i + FORGET_BATCH);
      journal.forgetEnded(batch);
      forgotten.push(...batch);
    }
    if (forgotten.length > 0) log.debug('ended sessions forgotten', { count: forgotten.length, keep });
    journal.forgetSupervisorEventsBeyond(Limits.supervisorEventsKept);
  } catch (err) {
    log.warn('could not forget ended sessions past ENDED_SESSIONS_KEPT; retried after the next session ends', { error: (err as Error).message });
  }
  return forgotten;
}
