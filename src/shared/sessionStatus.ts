/**
 * The one definition of "ended". A session is active while its agent runs or is
 * being killed; every other status is an outcome, final until session_send
 * continues it. The supervisor, the worker, the journal's SQL and the tests ask
 * here rather than spelling the list again. No zod: the worker imports this.
 */
export const ACTIVE_STATUSES = ['running', 'killing'] as const;
export const ENDED_STATUSES = ['exited', 'killed', 'failed', 'lost'] as const;

/** The active statuses as an SQL list, for `status IN ${…}` / `status NOT IN ${…}`. */
export const ACTIVE_STATUSES_SQL = `(${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`;

export function isEnded(status: string): boolean {
  return !(ACTIVE_STATUSES as readonly string[]).includes(status);
}
