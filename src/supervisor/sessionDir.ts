/**
 * Creating a session's directory: all of it or none of it. A start that fails
 * on the way (full disk, unwritable STATE_DIR, a journal that refuses the row)
 * leaves no directory behind for the next start-up to puzzle over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkerSpec } from '../shared/protocol';
import { SPEC_FILE } from '../shared/sessionFiles';
import { SessionError } from './sessionError';

/** Writes the directory and its spec, then runs `record` (the journal row); undoes the lot if any step fails. */
export function createSessionDir(spec: WorkerSpec, record: () => void): string {
  const specPath = path.join(spec.sessionDir, SPEC_FILE);
  try {
    fs.mkdirSync(spec.sessionDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600 });
    record();
  } catch (err) {
    fs.rmSync(spec.sessionDir, { recursive: true, force: true });
    if (err instanceof SessionError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOSPC' ? 'disk full' : (e.code ?? e.message);
    throw new SessionError(`could not write the session's files in STATE_DIR (${why}); nothing was started. Free space in STATE_DIR and try again.`);
  }
  return specPath;
}

/**
 * A session's launch spec read back from its directory, checked by the contract's validator: the one
 * reader for resume, discovery and the file tools' roots. Throws the read's errno error (ENOENT: the
 * files are no longer kept), a SyntaxError, or a ContractError for a spec that is not ours.
 */
export function readSpec(sessionDir: string): WorkerSpec {
  return WorkerSpec.parse(JSON.parse(fs.readFileSync(path.join(sessionDir, SPEC_FILE), 'utf8')));
}
