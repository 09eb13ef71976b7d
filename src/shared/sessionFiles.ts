/**
 * A session's directory on disk (`STATE_DIR/sessions/<id>/`), shared by the worker
 * that writes it and the supervisor that reads it.
 *
 * Output:  `output/<first offset>.log` segments of
 * plain lines. The worker writes them while the agent runs; the supervisor reads
 * them once the worker is gone (ended, crashed, or a fresh supervisor reading an
 * old session). Only the newest two segments are kept, and a segment holds at
 * most one ring's worth of lines, so the files always cover at least the last
 * `capacity` lines and never much more.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RingBuffer } from './ringBuffer';
import { sanitize } from './sanitize';

/** The worker's launch spec (0600: it holds the session secret and the agent's environment). */
export const SPEC_FILE = 'spec.json';
/** The worker's final WorkerState, written atomically when the session ends. */
export const FINAL_STATE_FILE = 'final.json';

const SEGMENT_RE = /^(\d{12})\.log$/;

export function outputDir(sessionDir: string): string {
  return path.join(sessionDir, 'output');
}

export function segmentName(firstOffset: number): string {
  return String(firstOffset).padStart(12, '0') + '.log';
}

/** Segment start offsets, oldest first. */
export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => SEGMENT_RE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Loads the persisted output into a ring, with offsets as the session produced them,
 * every line sanitised (shared/sanitize.ts) whenever it was written.
 * A segment that cannot be read is skipped and named in `problems`: one bad file costs
 * its own lines, never the reader.
 */
export function loadOutput(sessionDir: string, capacity: number, problems: string[] = []): RingBuffer {
  const dir = outputDir(sessionDir);
  const segments = listSegments(dir).slice(-2);
  if (segments.length === 0) return new RingBuffer(capacity, 0);
  const ring = new RingBuffer(capacity, segments[0]);
  for (const first of segments) {
    // Segments are contiguous by construction; a gap (a lost segment) is skipped over honestly.
    if (first > ring.nextOffset) {
      for (let i = ring.nextOffset; i < first; i++) ring.push('');
    }
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, segmentName(first)), 'utf8');
    } catch (err) {
      problems.push(`${segmentName(first)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    if (text.length === 0) continue;
    const lines = text.split('\n');
    // The terminating newline; an unterminated tail is half a line from a crash mid-write.
    lines.pop();
    // Segments from before the sanitiser hold an agent's raw bytes; a clean line passes untouched.
    for (const line of lines) ring.push(sanitize(line));
  }
  return ring;
}
