/**
 * The output of a session without a live worker, from its files on disk. Files
 * that cannot be read, or that hold fewer lines than the journal counted (the
 * output directory deleted, a segment lost), are said so in a note; offsets
 * carry on from what the session produced, so a client's `since` stays valid.
 */
import fs from 'node:fs';
import { RingBuffer } from '../shared/ringBuffer';
import { loadOutput, outputDir } from '../shared/sessionFiles';

export interface EndedOutput {
  ring: RingBuffer;
  /** Why lines the session produced cannot be shown; null when the files are whole. */
  note: string | null;
}

export function loadEndedOutput(sessionDir: string, outputLines: number, capacity: number): EndedOutput {
  const problems: string[] = [];
  const ring = loadOutput(sessionDir, capacity, problems);
  const unreadable = problems.length > 0 ? `output file(s) of this session could not be read (${problems.join(', ')})` : null;
  if (ring.nextOffset >= outputLines) return { ring, note: unreadable };
  const why = unreadable ?? (fs.existsSync(outputDir(sessionDir)) ? 'its output files are incomplete' : `its output directory ${outputDir(sessionDir)} no longer exists`);
  return {
    ring: new RingBuffer(capacity, outputLines),
    note: `the session produced ${outputLines} line(s) but ${why}; they cannot be shown.`,
  };
}
