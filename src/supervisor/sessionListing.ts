/**
 * session_list's query: which statuses a filter means, and the cursor that
 * carries a page's end to the next request. The cursor is opaque to clients
 * (base64url JSON) and checked on the way back in: a malformed one, or one
 * handed back with different filters, is refused with a reason rather than
 * silently restarting or skipping the listing.
 */
import { z } from 'zod';
import { Limits } from '../shared/constants';
import { ACTIVE_STATUSES, ENDED_STATUSES } from '../shared/sessionStatus';
import { AgentKind, PublicStatus, type SessionStatus } from './tools/contractEnums';
import type { Journal, ListPosition, ListedRow } from './journal';

const ACTIVE: SessionStatus[] = ACTIVE_STATUSES.filter((s): s is SessionStatus & typeof s => s !== 'awaiting_approval');
const ENDED: SessionStatus[] = [...ENDED_STATUSES];

export const StatusFilter = z.enum([...PublicStatus.options, 'active', 'ended', 'all']);
export type StatusFilter = z.infer<typeof StatusFilter>;

export interface ListQuery {
  status?: StatusFilter;
  agent?: AgentKind;
  limit?: number;
  cursor?: string;
}

/**
 * The journalled statuses a filter means, and whether it wants sessions with pending approvals
 * (true), without (false) or either (null): `awaiting_approval` is a running row with some,
 * and `running` then means one with none, as each session shows one status.
 */
function statusesOf(filter: StatusFilter): { statuses: SessionStatus[]; awaiting: boolean | null } {
  if (filter === 'all') return { statuses: [...ACTIVE, ...ENDED], awaiting: null };
  if (filter === 'active') return { statuses: ACTIVE, awaiting: null };
  if (filter === 'ended') return { statuses: ENDED, awaiting: null };
  if (filter === 'awaiting_approval') return { statuses: ['running'], awaiting: true };
  return { statuses: [filter], awaiting: filter === 'running' ? false : null };
}

/** What a cursor holds: the last row's sort key, and the filters it was made under. */
const CursorBody = z
  .object({
    v: z.literal(1),
    rank: z.union([z.literal(0), z.literal(1)]),
    at: z.string().max(40),
    id: z.string().regex(/^[0-9a-f-]{36}$/),
    status: StatusFilter,
    agent: AgentKind.nullable(),
  })
  .strict();
type CursorBody = z.infer<typeof CursorBody>;

/** A client's mistake with the cursor; the caller turns it into a tool error. */
export class CursorError extends Error {}

export function encodeCursor(body: CursorBody): string {
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(cursor: string, status: StatusFilter, agent: AgentKind | null): ListPosition {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = undefined; // not JSON: refused below like any other malformed cursor
  }
  const parsed = CursorBody.safeParse(raw);
  if (!parsed.success) throw new CursorError("cursor is not one session_list gave: pass the previous reply's nextCursor unchanged, or omit it to start over");
  const c = parsed.data;
  if (c.status !== status || c.agent !== agent) {
    throw new CursorError(`cursor was made for status "${c.status}"${c.agent ? ` and agent "${c.agent}"` : ''}: page on with the same filters, or omit cursor to start over`);
  }
  return { rank: c.rank, at: c.at, id: c.id };
}

/** A page of rows, the cursor to the next (null on the last page), and how many sessions of each status are kept. */
export function listSessions(journal: Journal, q: ListQuery): { rows: ListedRow[]; nextCursor: string | null; counts: Partial<Record<PublicStatus, number>> } {
  const status = q.status ?? 'all';
  const agent = q.agent ?? null;
  const limit = q.limit ?? Limits.sessionListPage;
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor, status, agent);
  const rows = journal.listPage({ ...statusesOf(status), agent, after, limit });
  const counts: Partial<Record<PublicStatus, number>> = journal.countByStatus();
  const awaiting = journal.countAwaitingApproval();
  if (awaiting > 0) {
    counts.awaiting_approval = awaiting;
    counts.running = (counts.running ?? 0) - awaiting;
  }
  if (rows.length <= limit) return { rows, nextCursor: null, counts };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: encodeCursor({ v: 1, rank: last.list_rank, at: last.list_at, id: last.id, status, agent }), counts };
}
