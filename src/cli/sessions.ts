/** `agentvisor sessions`: the journal's sessions as a table, with or without a running server. */
import { note, operatorConfig, out, parseCommand } from './common';
import { ago, printJson, spentText, table } from './format';
import { exitText, isEnded, openJournal, sessionView, withLive } from './journalView';
import { findServer, liveSessions } from './server';

export const USAGE = `usage: agentvisor sessions [--all] [--json]

Lists sessions from the journal (STATE_DIR/journal.db, read-only), whether or not
the server is running, with the running server's fresher details when it is up:
running ones by default.

options:
  --all    every session, ended ones too
  --json   an array of session objects instead of a table
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { all: { type: 'boolean' }, json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const config = operatorConfig();
  const server = await findServer(config.STATE_DIR);
  const serverUp = server !== null;
  const live = server ? await liveSessions(config, server) : null;
  if (live && 'error' in live) note(`showing the journal only: the running server did not answer session_list (${live.error})`);
  const byId = live && 'byId' in live ? live.byId : undefined;
  const journal = openJournal(config.STATE_DIR);
  let views;
  try {
    views = journal.all().map((row) => withLive(sessionView(row, serverUp), byId?.get(row.id)));
  } finally {
    journal.close();
  }
  const shown = args.values.all ? views : views.filter((v) => !isEnded(v.status));
  if (args.values.json) return printJson(shown);
  if (!serverUp && views.some((v) => v.statusFrom !== 'journal')) {
    note('the server is not running: sessions it has not journalled as ended are shown as their workers left them');
  }
  if (shown.length === 0) {
    out(args.values.all ? 'no sessions\n' : 'no running sessions (agentvisor sessions --all lists ended ones)\n');
    return;
  }
  const now = Date.now();
  out(
    table(
      ['ID', 'AGENT', 'STATUS', 'STARTED', 'LAST OUTPUT', 'EXIT', 'SPENT', 'CWD'],
      shown.map((v) => [v.sessionId.slice(0, 8), v.agent, v.status, ago(v.startedAt, now), ago(v.lastOutputAt, now), exitText(v), spentText(v.usage), v.cwd]),
    ),
  );
}
