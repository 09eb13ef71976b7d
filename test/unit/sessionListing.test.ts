/**
 * session_list's query and retention against a real journal file: ordering with
 * equal timestamps, paging that neither repeats nor skips a row, cursors refused
 * when malformed or reused with other filters, and forgetting that spares running
 * sessions and takes their events with ended ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { Limits } from '../../src/shared/constants';
import { Journal } from '../../src/supervisor/journal';
import { forgetEndedBeyond } from '../../src/supervisor/retention';
import { CursorError, encodeCursor, listSessions } from '../../src/supervisor/sessionListing';

let dir: string;
let journal: Journal;
const silentLog = winston.createLogger({ silent: true });

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function add(n: number, status: string, at: string, agent = 'codex'): string {
  const sid = id(n);
  const sessionDir = path.join(dir, 'sessions', sid);
  fs.mkdirSync(sessionDir, { recursive: true });
  journal.insertSession({ id: sid, agent: agent as 'codex', cwd: '/w', task: 't', model: null, mode: 'full', socket_path: '/s', session_dir: sessionDir, secret: 'x' });
  journal.db.prepare('UPDATE sessions SET status = ?, created_at = ?, ended_at = ? WHERE id = ?').run(status, at, status === 'running' ? null : at, sid);
  journal.event(sid, 'note');
  return sid;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-listing-'));
  journal = new Journal(path.join(dir, 'journal.db'));
});

afterEach(() => {
  journal.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('pages of 2 over equal timestamps visit every row once, running first', () => {
  const t = '2026-01-01T00:00:00.000Z';
  const running = [add(1, 'running', t), add(2, 'running', t)];
  const ended = [add(3, 'exited', t), add(4, 'killed', t), add(5, 'exited', '2026-01-02T00:00:00.000Z'), add(6, 'lost', t)];
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = listSessions(journal, { limit: 2, ...(cursor ? { cursor } : {}) });
    seen.push(...page.rows.map((r) => r.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  // Equal times fall back to the id, descending.
  expect(seen).toEqual([running[1], running[0], ended[2], ended[3], ended[1], ended[0]]);
  expect(listSessions(journal, {}).counts).toEqual({ running: 2, exited: 2, killed: 1, lost: 1 });
});

test('a cursor is refused when malformed, forged or reused with other filters', () => {
  for (let n = 1; n <= 3; n++) add(n, 'exited', `2026-01-0${n}T00:00:00.000Z`);
  const { nextCursor } = listSessions(journal, { status: 'ended', limit: 1 });
  expect(nextCursor).toEqual(expect.any(String));
  expect(() => listSessions(journal, { cursor: nextCursor! })).toThrow(/made for status "ended"/);
  expect(() => listSessions(journal, { status: 'ended', agent: 'codex', cursor: nextCursor! })).toThrow(CursorError);
  expect(() => listSessions(journal, { cursor: '!!!' })).toThrow(/not one session_list gave/);
  expect(() => listSessions(journal, { cursor: Buffer.from('[1,2]').toString('base64url') })).toThrow(CursorError);
  const forged = encodeCursor({ v: 1, rank: 1, at: '2026-01-03T00:00:00.000Z', id: id(3), status: 'all', agent: null });
  // A well-formed cursor only positions the page; its values are bound parameters, never SQL.
  const injected = Buffer.from(JSON.stringify({ v: 1, rank: 1, at: "' OR 1=1 --", id: id(3), status: 'all', agent: null })).toString('base64url');
  expect(listSessions(journal, { cursor: forged }).rows.map((r) => r.id)).toEqual([id(2), id(1)]);
  expect(listSessions(journal, { cursor: injected }).rows.map((r) => r.id)).toEqual([]);
});

test('forgetting keeps the newest ended and every running session, and takes events and directories with the rest', () => {
  const running = add(1, 'running', '2020-01-01T00:00:00.000Z');
  const killing = add(2, 'killing', '2020-01-01T00:00:00.000Z');
  const old = [add(3, 'exited', '2026-01-01T00:00:00.000Z'), add(4, 'failed', '2026-01-02T00:00:00.000Z')];
  const recent = add(5, 'exited', '2026-01-03T00:00:00.000Z');
  // A damaged row aiming outside the sessions root: its row goes, the directory it names stays.
  const outside = fs.mkdtempSync(path.join(dir, 'elsewhere-'));
  journal.db.prepare('UPDATE sessions SET session_dir = ? WHERE id = ?').run(outside, old[0]);
  expect(forgetEndedBeyond(journal, 1, path.join(dir, 'sessions'), silentLog).sort()).toEqual(old);
  expect(
    journal
      .all()
      .map((r) => r.id)
      .sort(),
  ).toEqual([running, killing, recent]);
  expect(
    journal.db
      .prepare('SELECT DISTINCT session_id FROM events')
      .all()
      .map((r: any) => r.session_id)
      .sort(),
  ).toEqual([running, killing, recent]);
  expect(fs.readdirSync(path.join(dir, 'sessions')).sort()).toEqual([running, killing, old[0], recent].sort());
  expect(fs.existsSync(outside)).toBe(true);
  // Nothing more to forget: a second pass is a no-op.
  expect(forgetEndedBeyond(journal, 1, path.join(dir, 'sessions'), silentLog)).toEqual([]);
});

test('forgetting never throws: a journal that fails is logged and retried later', () => {
  add(1, 'exited', '2026-01-01T00:00:00.000Z');
  add(2, 'exited', '2026-01-02T00:00:00.000Z');
  const warnings: string[] = [];
  const log = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
  log.on('data', (info: { message: string }) => warnings.push(info.message));
  journal.close();
  expect(forgetEndedBeyond(journal, 1, path.join(dir, 'sessions'), log)).toEqual([]);
  expect(warnings.join('\n')).toMatch(/could not forget ended sessions/);
});

test('events of no session (supervisor starts and stops) keep only the newest, with the sessions they sit between', () => {
  const sid = add(1, 'running', '2026-01-01T00:00:00.000Z');
  journal.tx(() => {
    for (let i = 0; i < Limits.supervisorEventsKept + 25; i++) journal.event(null, 'supervisor_started', { n: i });
  });
  forgetEndedBeyond(journal, 1, path.join(dir, 'sessions'), silentLog);
  const rows = journal.db.prepare('SELECT detail FROM events WHERE session_id IS NULL ORDER BY id').all() as Array<{ detail: string }>;
  expect(rows).toHaveLength(Limits.supervisorEventsKept);
  expect(JSON.parse(rows[0].detail).n).toBe(25);
  expect(journal.events(sid).map((e) => e.kind)).toEqual(['created', 'note']);
});
