/**
 * Small pieces shared by the filesystem task modules (read_file in fsTasks, list_directory in
 * dirWalk): failures as values, argument bounds and one-line error texts.
 */
import type * as fs from 'node:fs';
import { describeFsError } from './pathGuard';

export type FsError = { ok: false; error: string };

export function fail(error: string): FsError {
  return { ok: false, error };
}

/** Integer argument in [min, max]; values above max are lowered (the limits are caps, not errors). */
export function intArg(value: unknown, name: string, fallback: number, min: number, max: number): number | FsError {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) return fail(`${name} must be an integer, got ${JSON.stringify(value)}.`);
  if (value < min) return fail(`${name} must be at least ${min}, got ${value}.`);
  return Math.min(value, max);
}

export function kindOf(st: fs.Stats | fs.BigIntStats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function errnoMessage(err: unknown, shown: string): string {
  const e = err as NodeJS.ErrnoException;
  return describeFsError(typeof e?.code === 'string' ? e.code : 'EUNKNOWN', String(e?.message ?? err), shown);
}
