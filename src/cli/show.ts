/** `agentvisor show <id>`: one session's metadata and its event history, from the journal. */
import { note, operatorConfig, out, parseCommand } from './common';
import { ago, duration, fields, printJson, table } from './format';
import { type SessionView, events, exitText, findSession, isEnded, openJournal, sessionView, withLive } from './journalView';
import { findServer, liveSessions } from './server';

export const USAGE = `usage: agentvisor show <id> [--json]

One session's metadata and event history from the journal (works while the
server is down). <id> may be any unique prefix of the session id.

options:
  --json   {"session": {...}, "task": "...", "events": [...]} instead of text
`;

/** Tasks longer than this are cut in the text view (--json has all of it). */
const TASK_SHOWN_CHARS = 600;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { json: { type: 'boolean' } }, { min: 1, max: 1 });
  if (!args) return;
  const config = operatorConfig();
  const server = await findServer(config.STATE_DIR);
  const journal = openJournal(config.STATE_DIR);
  let row, history;
  try {
    row = findSession(journal, args.positionals[0]);
    history = events(journal, row.id);
  } finally {
    journal.close();
  }
  const live = server ? await liveSessions(config, server) : null;
  if (live && 'error' in live) note(`showing the journal only: the running server did not answer session_list (${live.error})`);
  const v = withLive(sessionView(row, server !== null), live && 'byId' in live ? live.byId.get(row.id) : undefined);
  const evs = history.map((e) => ({ id: e.id, at: e.at, kind: e.kind, detail: e.detail ? safeJson(e.detail) : null }));
  if (args.values.json) return printJson({ session: v, task: row.task, events: evs });

  const now = Date.now();
  const when = (iso: string | null) => (iso ? `${iso} (${ago(iso, now)})` : '-');
  const outcome = isEnded(v.status)
    ? [`exit ${exitText(v)}`, v.endReason ? `reason ${v.endReason}` : '', v.completedSuccessfully === null ? '' : v.completedSuccessfully ? 'completed successfully' : 'not completed successfully']
        .filter(Boolean)
        .join(', ')
    : '';
  const task = row.task.length > TASK_SHOWN_CHARS ? `${row.task.slice(0, TASK_SHOWN_CHARS)}… (${row.task.length} characters; --json shows all)` : row.task;
  out(
    fields([
      ['id', v.sessionId],
      ['agent', v.agent + (v.model ? ` (model ${v.model})` : '')],
      ['mode', v.mode],
      ['sandbox', v.sandbox],
      [
        'status',
        v.status +
          (outcome ? ` — ${outcome}` : '') +
          (v.statusFrom === 'journal' || v.statusFrom === 'server' ? '' : ` [from the ${v.statusFrom === 'final record' ? "worker's final record" : 'worker being gone'}; the server is not running]`),
      ],
      ['cwd', v.cwd],
      ['task', task],
      ['started', when(v.startedAt)],
      ['last output', when(v.lastOutputAt)],
      ['ended', when(v.endedAt)],
      ['output lines', String(v.outputLines)],
      ['pids', `agent ${v.agentPid ?? '-'}, worker ${v.workerPid ?? '-'}`],
      ['agent session', v.agentSessionId ?? '-'],
      ['error', v.errorSummary ?? '-'],
      ['usage', usageText(v)],
      [
        'limits',
        v.limits
          ? Object.entries(v.limits)
              .filter(([, n]) => n !== null)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')
          : 'none',
      ],
    ]),
  );
  out('\nevents\n');
  out(
    evs.length === 0
      ? '(none)\n'
      : table(
          ['AT', 'KIND', 'DETAIL'],
          evs.map((e) => [e.at, e.kind, e.detail === null ? '' : JSON.stringify(e.detail)]),
        ),
  );
}

/** `in 1234 (cached 10), out 56 tokens, cost $0.0123, 2 turns, ran 12s`. */
function usageText(v: SessionView): string {
  const u = v.usage;
  const ran = `ran ${duration(v.runMs)}`;
  if (!u) return `none reported, ${ran}`;
  const cost = u.costUsd === null ? 'cost not reported' : `cost $${u.costUsd.toFixed(4)}`;
  return `in ${u.inputTokens} (cached ${u.cachedInputTokens}), out ${u.outputTokens} tokens, ${cost}, ${u.turns} turn${u.turns === 1 ? '' : 's'}, ${ran}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
