/**
 * Reading a session's final record (`final.json`) back, defensively: a file cut
 * short by a crash, emptied by a full disk or edited by hand marks that one
 * session with a clear reason and never throws into the supervisor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkerState } from '../shared/protocol';
import { FINAL_STATE_FILE } from '../shared/sessionFiles';

/**
 * A session's final record: absent (null), or parsed, or a clear reason it could
 * not be (empty, cut short, not a WorkerState). Never throws.
 */
export function readFinalState(sessionDir: string): { ok: true; state: WorkerState } | { ok: false; error: string } | null {
  const file = path.join(sessionDir, FINAL_STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { ok: false, error: `final record ${file} is unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  try {
    const parsed = WorkerState.safeParse(JSON.parse(text));
    if (parsed.success) return { ok: true, state: parsed.data };
    return { ok: false, error: `final record ${file} is unreadable (not a worker state: ${parsed.error.message})` };
  } catch (err) {
    return { ok: false, error: `final record ${file} is unreadable (${text.length === 0 ? 'empty' : (err as Error).message})` };
  }
}
