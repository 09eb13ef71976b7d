/**
 * The journal as a file: opened with an error that names the file and the fix
 * when it is not a database, and watched while the supervisor runs, so a
 * journal deleted or replaced under it (an operator's rm, a restore) is
 * noticed and reported instead of silently written to a file nobody will see.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'winston';
import { Journal } from './journal';

export const JournalFileTimeouts = {
  /** How often the journal file's identity is checked between /health reads: a stat, so cheap. */
  checkMs: 30_000,
} as const;

/** SQLite's answers when it cannot grow the -shm file or the WAL (a full disk). */
const isNoSpace = (code: string | undefined) => code === 'SQLITE_FULL' || (code?.startsWith('SQLITE_IOERR') ?? false) || code === 'SQLITE_CANTOPEN';

/**
 * Opens the journal. On a full disk, where SQLite cannot create its -shm file, it is opened in
 * exclusive locking mode (the WAL index in memory) so the supervisor can still start, re-attach
 * and serve; `exclusive` then says so, because the CLI cannot read the journal until a restart.
 */
export function openJournal(file: string): { journal: Journal; exclusive: boolean } {
  try {
    return { journal: new Journal(file), exclusive: false };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (isNoSpace(code)) {
      try {
        return { journal: new Journal(file, { exclusive: true }), exclusive: true };
      } catch {
        // not the disk after all: report the first error below
      }
    }
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new Error(
        `${file} is not a usable journal (${(err as Error).message}). Move it aside (mv ${file} ${file}.bad) and start again: ` +
          `a new journal is created, and sessions still running are found again from ${path.join(path.dirname(file), 'sessions')}`,
        { cause: err },
      );
    }
    throw err;
  }
}

export class JournalFileWatch {
  private readonly dev: number;
  private readonly ino: number;
  private readonly timer: NodeJS.Timeout;
  private logged: string | null = null;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {
    const st = fs.statSync(file);
    this.dev = st.dev;
    this.ino = st.ino;
    this.timer = setInterval(() => this.problems(), JournalFileTimeouts.checkMs);
    this.timer.unref();
  }

  /** What is wrong with the journal file, as sentences for /health and doctor; empty when nothing is. */
  problems(): string[] {
    let problem: string | null = null;
    try {
      const st = fs.statSync(this.file);
      if (st.dev !== this.dev || st.ino !== this.ino) {
        problem = `journal file ${this.file} was replaced while agentvisor runs: agentvisor still writes the one it opened; restart agentvisor to use the new one`;
      }
    } catch (err) {
      problem =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? `journal file ${this.file} was deleted while agentvisor runs: what it records now is lost when it stops; restart agentvisor to create a new journal (live sessions are found again from their session directories)`
          : `journal file ${this.file} cannot be checked (${(err as NodeJS.ErrnoException).code})`;
    }
    if (problem && problem !== this.logged) this.log.error('journal file problem', { problem });
    this.logged = problem;
    return problem ? [problem] : [];
  }

  close(): void {
    clearInterval(this.timer);
  }
}
