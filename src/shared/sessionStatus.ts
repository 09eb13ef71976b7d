/**
 * The one definition of "ended". A session is active while its agent runs or is
 * being killed; every other status is an outcome, final until session_send
 * continues it. The supervisor, the worker, the journal's SQL and the tests ask
 * here rather than spelling the list again. No zod: the worker imports this.
 *
 * `awaiting_approval` (issue 15) is never journalled nor said by a worker: it is
 * what the supervisor shows for a running session while a permission request of
 * its agent waits for a decision (publicStatus), and it is active.
 */
export const ACTIVE_STATUSES = ['running', 'awaiting_approval', 'killing'] as const;
export const ENDED_STATUSES = ['exited', 'killed', 'failed', 'lost'] as const;

/** Every status a client may see, in the order a person reads them. */
export const PUBLIC_STATUSES = [...ACTIVE_STATUSES, ...ENDED_STATUSES] as const;
export type PublicStatus = (typeof PUBLIC_STATUSES)[number];

/** The active statuses as an SQL list, for `status IN ${…}` / `status NOT IN ${…}`. */
export const ACTIVE_STATUSES_SQL = `(${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`;

export function isEnded(status: string): boolean {
  return !(ACTIVE_STATUSES as readonly string[]).includes(status);
}

/** What a client is shown: a running session with requests pending is `awaiting_approval`. */
export function publicStatus<S extends string>(status: S, pendingApprovals: number): S | 'awaiting_approval' {
  return status === 'running' && pendingApprovals > 0 ? 'awaiting_approval' : status;
}
