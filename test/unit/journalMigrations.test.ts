/**
 * The journal's schema migrations, in-process on real SQLite files: a
 * database left by each older agentvisor (built here from the schema that
 * version had, not from the code's migration list, so an edited old migration
 * is caught) and a fresh one all end at the current version with the same
 * schema and their rows intact; a database from a newer agentvisor is refused
 * with a message that says what to do, and left as it was.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Journal } from '../../src/supervisor/journal';

/** The schema each released user_version had, as that version created it. */
const V1 = `CREATE TABLE sessions (
     id                     TEXT PRIMARY KEY,
     agent                  TEXT NOT NULL,
     cwd                    TEXT NOT NULL,
     task                   TEXT NOT NULL,
     model                  TEXT,
     mode                   TEXT NOT NULL DEFAULT 'full',
     status                 TEXT NOT NULL,
     worker_pid             INTEGER,
     worker_start_time      TEXT,
     agent_pid              INTEGER,
     agent_start_time       TEXT,
     socket_path            TEXT NOT NULL,
     session_dir            TEXT NOT NULL,
     secret                 TEXT NOT NULL,
     created_at             TEXT NOT NULL,
     last_activity_at       TEXT NOT NULL,
     last_output_at         TEXT,
     ended_at               TEXT,
     exit_code              INTEGER,
     signal                 TEXT,
     end_reason             TEXT,
     completed_successfully INTEGER,
     agent_session_id       TEXT,
     error_summary          TEXT,
     output_lines           INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX sessions_status ON sessions(status);
   CREATE TABLE events (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     at         TEXT NOT NULL,
     session_id TEXT,
     kind       TEXT NOT NULL,
     detail     TEXT
   );
   CREATE INDEX events_session ON events(session_id, id);`;
/**
 * Every older version above 0 (0 is an empty file, the fresh case). When a migration is added,
 * add here the schema of the version it upgrades from: e.g. 2 is V1 plus `ALTER TABLE sessions ADD COLUMN git_base_tree TEXT;`.
 */
/** Version 2 as it shipped: version 1 plus the git tree recorded at session start. */
const V2 = `${V1}
ALTER TABLE sessions ADD COLUMN git_base_tree TEXT;`;

/** Version 3 as it shipped: version 2 plus the protocol the worker spoke to the agent (issue 14). */
const V3 = `${V2}
ALTER TABLE sessions ADD COLUMN protocol TEXT;`;

/** Version 4 as it shipped: version 3 plus the approvals of mode ask (issue 15). */
const V4 = `${V3}
CREATE TABLE approvals (
  session_id  TEXT NOT NULL,
  approval_id TEXT NOT NULL,
  kind        TEXT NOT NULL,
  summary     TEXT NOT NULL,
  request     TEXT NOT NULL,
  decisions   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  decided_at  TEXT,
  decision    TEXT,
  message     TEXT,
  decided_by  TEXT,
  state       TEXT NOT NULL,
  PRIMARY KEY (session_id, approval_id)
);
CREATE INDEX approvals_state ON approvals(state, session_id);`;

/** Version 5 as it shipped: version 4 plus usage and budgets (issues 14 and 18). */
const V5 = `${V4}
ALTER TABLE sessions ADD COLUMN input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN cached_input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN output_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN cost_usd REAL;
ALTER TABLE sessions ADD COLUMN turns INTEGER;
ALTER TABLE sessions ADD COLUMN run_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN limits TEXT;`;
/** Version 6: how each session's agent was confined (issue 16). */
const V6 = `${V5}
ALTER TABLE sessions ADD COLUMN sandbox TEXT;`;
/** Version 7: the sessions' git worktrees (issue 18). */
const V7 = `${V6}
CREATE TABLE worktrees (
     session_id  TEXT PRIMARY KEY,
     repo        TEXT NOT NULL,
     branch      TEXT NOT NULL,
     base_commit TEXT NOT NULL,
     path        TEXT NOT NULL,
     git_dir     TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     removed_at  TEXT
   );`;

const OLDER: Record<number, string> = { 1: V1, 2: V2, 3: V3, 4: V4, 5: V5, 6: V6, 7: V7 };

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-journal-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The schema as SQLite reports it: every table's columns and every index, comparable across files. */
function schemaOf(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const objects = db.prepare(`SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`).all() as Array<{ type: string; name: string }>;
    return objects.map((o) => ({
      ...o,
      columns: o.type === 'table' ? db.pragma(`table_info(${o.name})`) : db.pragma(`index_info(${o.name})`),
    }));
  } finally {
    db.close();
  }
}

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

function currentVersion(): { version: number; schema: unknown } {
  const file = path.join(dir, 'fresh.db');
  new Journal(file).close();
  const out = { version: userVersion(file), schema: schemaOf(file) };
  fs.rmSync(file);
  return out;
}

test('a fresh journal is created at the current version, and opening it again changes nothing', () => {
  const file = path.join(dir, 'journal.db');
  new Journal(file).close();
  const version = userVersion(file);
  expect(version).toBeGreaterThan(0);
  const schema = schemaOf(file);
  new Journal(file).close();
  expect(userVersion(file)).toBe(version);
  expect(schemaOf(file)).toEqual(schema);
});

test('there is an older schema here for every version below the current one', () => {
  const { version } = currentVersion();
  expect(
    Object.keys(OLDER)
      .map(Number)
      .sort((a, b) => a - b),
  ).toEqual(Array.from({ length: version - 1 }, (_, i) => i + 1));
});

test('a journal at each older version migrates to the current schema and keeps its rows', () => {
  const current = currentVersion();
  for (const [v, sql] of Object.entries(OLDER)) {
    const file = path.join(dir, `v${v}.db`);
    const db = new Database(file);
    db.exec(sql);
    db.pragma(`user_version = ${v}`);
    db.prepare(
      `INSERT INTO sessions (id, agent, cwd, task, status, socket_path, session_dir, secret, created_at, last_activity_at, exit_code, output_lines)
       VALUES ('old', 'codex', '/w', 'a task', 'exited', '/s.sock', '/d', 'secret-0123456789abcdef', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 0, 12)`,
    ).run();
    db.prepare(`INSERT INTO events (at, session_id, kind, detail) VALUES ('2026-01-01T00:00:00Z', 'old', 'started', NULL)`).run();
    db.close();

    const journal = new Journal(file);
    try {
      expect({ v, row: journal.get('old') }).toMatchObject({ v, row: { id: 'old', status: 'exited', exit_code: 0, output_lines: 12, mode: 'full' } });
      // Columns a later version added read as their default on an old row.
      expect(journal.get('old')!.git_base_tree).toBeNull();
      expect(journal.get('old')!.protocol).toBeNull();
      expect(journal.get('old')).toMatchObject({ input_tokens: null, cost_usd: null, turns: null, run_ms: 0, limits: null });
      expect(journal.events('old').map((e) => e.kind)).toEqual(['started']);
    } finally {
      journal.close();
    }
    expect({ v, version: userVersion(file) }).toEqual({ v, version: current.version });
    expect(schemaOf(file)).toEqual(current.schema);
  }
});

test('a journal from a newer agentvisor is refused with a message that says to upgrade, and is left untouched', () => {
  const { version } = currentVersion();
  const file = path.join(dir, 'journal.db');
  const db = new Database(file);
  db.exec('CREATE TABLE from_the_future (x)');
  db.pragma(`user_version = ${version + 1}`);
  db.close();
  const schema = schemaOf(file);
  expect(() => new Journal(file)).toThrow(new Error(`journal schema version ${version + 1} is newer than this agentvisor understands (${version}); upgrade agentvisor`));
  expect(userVersion(file)).toBe(version + 1);
  expect(schemaOf(file)).toEqual(schema);
});
