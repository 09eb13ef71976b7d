/**
 * `agentvisor logs <id>`: a session's output by absolute offsets. Through the
 * running server (MCP session_output / session_wait) when there is one, else
 * from the output segments the worker mirrors to disk; `--follow` keeps going
 * until the session ends, and carries on from disk if the server stops meanwhile.
 */
import fs from 'node:fs';
import { listSegments, loadOutput, outputDir, segmentName } from '../shared/sessionFiles';
import { Limits } from '../shared/constants';
import { terminalJson } from '../shared/sanitize';
import type { Config } from '../supervisor/config';
import type { Journal, SessionRow } from '../supervisor/journal';
import { CliTimeouts } from './cliTimeouts';
import { CliError, intOption, note, operatorConfig, out, parseCommand } from './common';
import { exitText, findSession, isEnded, openJournal, sessionView, stillRunning } from './journalView';
import { type RunningServer, ToolFailed, connectMcp, findServer } from './server';

export const USAGE = `usage: agentvisor logs <id> [--follow] [--since N] [--offsets] [--json]

A session's output. Offsets are absolute: line N is the Nth line the session
ever printed. Read through the running server, or from the session's output
files when the server is down. <id> may be any unique prefix of the session id.

options:
  -f, --follow    keep printing new lines until the session ends
  --since N       start at offset N (default 0)
  -n, --offsets   prefix each line with its offset
  --json          one JSON object per line: {"offset": N, "line": "..."}
`;

const PAGE_LINES = 1_000;

interface Page {
  lines: string[];
  offset: number;
  nextOffset: number;
  dropped: number;
  hasMore: boolean;
  status: string;
}

type Print = (offset: number, lines: string[]) => void;

/** The server stopped answering mid-read; the caller carries on from disk at `at`. */
class ServerGone extends Error {
  constructor(readonly at: number) {
    super('the server went away');
  }
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(
    argv,
    USAGE,
    { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' }, offsets: { type: 'boolean', short: 'n' }, json: { type: 'boolean' } },
    { min: 1, max: 1 },
  );
  if (!args) return;
  let since = intOption(args.values.since, 'since', 0);
  const follow = Boolean(args.values.follow);
  const config = operatorConfig();
  const journal = openJournal(config.STATE_DIR);
  try {
    const row = findSession(journal, args.positionals[0]);
    const print: Print = (offset, lines) => {
      if (lines.length === 0) return;
      const text = lines.map((line, i) => (args.values.json ? terminalJson({ offset: offset + i, line }) : args.values.offsets ? `${offset + i}\t${line}` : line));
      out(text.join('\n') + '\n');
    };
    const server = await findServer(config.STATE_DIR);
    let done = false;
    if (server) {
      try {
        since = await viaServer(config, server, row.id, since, follow, print);
        done = true;
      } catch (err) {
        if (!(err instanceof ServerGone)) throw err;
        since = err.at;
        note('the server stopped; reading on from the output files on disk');
      }
    }
    if (!done) since = await fromDisk(config, journal, row, since, follow, print);
    if (follow) {
      const v = sessionView(journal.get(row.id)!, (await findServer(config.STATE_DIR)) !== null);
      note(`session ${row.id.slice(0, 8)} ${isEnded(v.status) ? `ended: ${v.status}, exit ${exitText(v)}` : `is ${v.status}`} (next offset ${since})`);
    }
  } finally {
    journal.close();
  }
}

function reportDropped(page: Pick<Page, 'dropped' | 'offset'>): void {
  if (page.dropped > 0) note(`${page.dropped} line(s) before offset ${page.offset} are no longer kept`);
}

/** Reads (and follows) through MCP; returns the next offset. Throws ServerGone if the server goes away. */
async function viaServer(config: Config, server: RunningServer, id: string, since: number, follow: boolean, print: Print): Promise<number> {
  let mcp;
  try {
    mcp = await connectMcp(config, server);
  } catch (err) {
    // Stopped between finding it and connecting: the files on disk are as good.
    if (!(await findServer(config.STATE_DIR))) throw new ServerGone(since);
    throw err;
  }
  let at = since;
  try {
    for (;;) {
      let page: Page;
      try {
        page = follow
          ? await mcp.call<Page>('session_wait', { sessionId: id, since: at, timeoutMs: CliTimeouts.followWaitMs, limit: PAGE_LINES }, CliTimeouts.followWaitMs + CliTimeouts.callSlackMs)
          : await mcp.call<Page>('session_output', { sessionId: id, since: at, limit: PAGE_LINES });
      } catch (err) {
        if (err instanceof ToolFailed) throw new CliError(err.message);
        if (!(await findServer(config.STATE_DIR))) throw new ServerGone(at);
        throw new CliError(`reading output through the server failed: ${(err as Error).message}`);
      }
      reportDropped(page);
      print(page.offset, page.lines);
      at = Math.max(at, page.nextOffset);
      if (page.hasMore) continue;
      if (!follow || isEnded(page.status)) return at;
    }
  } finally {
    await mcp.close();
  }
}

/** A cheap fingerprint of the output files: they are re-read only when it changes. */
function segmentsSignature(sessionDir: string): string {
  const dir = outputDir(sessionDir);
  return listSegments(dir)
    .map((first) => {
      try {
        return `${first}:${fs.statSync(`${dir}/${segmentName(first)}`).size}`;
      } catch {
        return `${first}:-`;
      }
    })
    .join(',');
}

/** Reads (and follows) the worker's output files; returns the next offset. */
async function fromDisk(config: Config, journal: Journal, row: SessionRow, since: number, follow: boolean, print: Print): Promise<number> {
  // Two segments of up to a ring each: hold both whatever RING_LINES the worker ran with.
  const capacity = 2 * Math.max(config.RING_LINES, Limits.ringLines);
  let at = since;
  let seen = '';
  for (;;) {
    // Decided before reading: a worker flushes its output before it records the end, so this read is the last one needed.
    const ending = !follow || !stillRunning(journal, row.id, false);
    const sig = segmentsSignature(row.session_dir);
    if (sig !== seen) {
      seen = sig;
      const page = loadOutput(row.session_dir, capacity).read(at, Number.MAX_SAFE_INTEGER);
      reportDropped(page);
      print(page.offset, page.lines);
      at = Math.max(at, page.nextOffset);
    }
    if (ending) return at;
    await new Promise((r) => setTimeout(r, CliTimeouts.diskPollMs));
  }
}
