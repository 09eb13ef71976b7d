/**
 * The piscina task module behind the `read_file` and `list_directory` MCP tools.
 *
 * Runs inside worker threads so a huge file or tree never stalls the supervisor's event loop.
 * Requests and results are plain serialisable objects; expected failures come back as
 * `{ ok: false, error }` values with a message that names the problem and the fix — this
 * module never throws for them, and never leaks a stack trace.
 *
 * All fs calls here are synchronous on purpose: async fs calls made from a worker still queue
 * on libuv's process-wide threadpool (4 threads by default) shared with the supervisor, so a
 * slow disk would starve the supervisor's own I/O; a sync call blocks only this worker.
 *
 * Binary files (a NUL byte in the first 8 KiB) are refused with a clear error rather than
 * returned: the result is text lines, and mangled binary helps no client. UTF-16 text
 * contains NULs and is therefore refused too.
 */
import * as fs from 'node:fs';
import { type AllowedRoot, resolveInsideRootsSync } from './pathGuard';
import { type FsError, errnoMessage, fail, intArg, kindOf } from './fsTaskHelpers';
import { type ListDirectoryArgs, type ListDirectoryResult, listDirectory } from './dirWalk';

export type { FsError } from './fsTaskHelpers';
export { MAX_LIST_DEPTH, MAX_LIST_ENTRIES } from './dirWalk';
export type { DirEntry, EntryType, ListDirectoryArgs, ListDirectoryOk, ListDirectoryResult } from './dirWalk';

/** Page length when the client gives none: a screenful-rich page that stays cheap to return. */
export const DEFAULT_MAX_LINES = 2000;
/** Hard cap on lines per page so one call cannot produce an enormous array. */
export const MAX_MAX_LINES = 10_000;
/** Default text budget per page: about what a model can usefully take in at once. */
export const DEFAULT_MAX_BYTES = 100_000;
/** Hard cap on text per page so one result stays well under MCP message limits. */
export const MAX_MAX_BYTES = 1_000_000;
/** Read buffer size: bounds memory per read regardless of file size or line length. */
export const READ_CHUNK_BYTES = 64 * 1024;
/** How much of the file's head is sniffed for NUL bytes; the same heuristic git and grep use. */
export const BINARY_SNIFF_BYTES = 8 * 1024;

// O_NOFOLLOW closes the gap where the checked file is swapped for a symlink before open;
// O_NONBLOCK makes opening a FIFO swapped in at that moment return at once instead of hanging.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

export interface ReadFileArgs {
  path: string;
  /** Lines per page; default DEFAULT_MAX_LINES, values above MAX_MAX_LINES are lowered to it. */
  maxLines?: number;
  /** 0-based line to start at; pass the previous page's nextOffset to continue. */
  offset?: number;
  /** Text budget per page (line bytes plus one per line); default DEFAULT_MAX_BYTES, capped at MAX_MAX_BYTES. */
  maxBytes?: number;
}

export type FsTaskRequest = ({ op: 'read_file'; roots: AllowedRoot[] } & ReadFileArgs) | ({ op: 'list_directory'; roots: AllowedRoot[] } & ListDirectoryArgs);

/** Why a page ended before the end of the file (or, for longLine, why its only line is cut). */
export type ReadTruncation = 'maxLines' | 'maxBytes' | 'longLine';

export interface ReadFileOk {
  ok: true;
  op: 'read_file';
  /** The realpath that was read. */
  path: string;
  offset: number;
  /** Lines without their terminators ("\n" and a preceding "\r" are stripped). */
  lines: string[];
  /** The offset to request next: offset + lines.length. */
  nextOffset: number;
  /** True when the file has lines after this page. */
  hasMore: boolean;
  truncated?: ReadTruncation;
  /** File size in bytes. */
  totalBytes: number;
  /** Number of lines in the file; present only when this page reaches the end of the file. */
  totalLines?: number;
  note?: string;
}

export type ReadFileResult = ReadFileOk | FsError;
export type FsTaskResult = ReadFileResult | ListDirectoryResult;

export default function fsTask(request: FsTaskRequest): FsTaskResult {
  try {
    if (request === null || typeof request !== 'object') return fail('malformed request: expected an object.');
    const roots = Array.isArray(request.roots) ? request.roots : [];
    switch (request.op) {
      case 'read_file':
        return readFile(request, roots);
      case 'list_directory':
        return listDirectory(request, roots);
      default:
        return fail(`unknown operation "${String((request as { op?: unknown }).op)}"; expected read_file or list_directory.`);
    }
  } catch (err) {
    // Only a bug or an exotic fs failure lands here; report it as a value, first line only.
    const e = err as NodeJS.ErrnoException;
    const message = String(e?.message ?? err).split('\n')[0];
    return fail(`internal error in the filesystem worker: ${message}`);
  }
}

// ---------------------------------------------------------------- read_file

function readFile(args: ReadFileArgs, roots: AllowedRoot[]): ReadFileResult {
  const offset = intArg(args.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset !== 'number') return offset;
  const maxLines = intArg(args.maxLines, 'maxLines', DEFAULT_MAX_LINES, 1, MAX_MAX_LINES);
  if (typeof maxLines !== 'number') return maxLines;
  const maxBytes = intArg(args.maxBytes, 'maxBytes', DEFAULT_MAX_BYTES, 1, MAX_MAX_BYTES);
  if (typeof maxBytes !== 'number') return maxBytes;

  const guard = resolveInsideRootsSync(args.path, roots);
  if (!guard.ok) return guard;
  const realPath = guard.realPath;

  // Type check on the inode before any open: opening a FIFO blocks until a writer appears,
  // and reading a device like /dev/zero never ends. realPath holds no symlinks, so lstat
  // sees exactly what open will see.
  let st: fs.Stats;
  try {
    st = fs.lstatSync(realPath);
  } catch (err) {
    return fail(errnoMessage(err, args.path));
  }
  if (st.isDirectory()) return fail(`"${args.path}" is a directory; use list_directory to see its contents.`);
  if (!st.isFile()) return fail(`"${args.path}" is ${kindOf(st)}, not a regular file; read_file only reads regular files.`);

  let fd: number;
  try {
    fd = fs.openSync(realPath, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ELOOP') return fail(`"${args.path}" was replaced by a symbolic link while being opened; refusing it.`);
    return fail(errnoMessage(err, args.path));
  }
  try {
    const opened = fs.fstatSync(fd);
    if (!opened.isFile() || opened.ino !== st.ino || opened.dev !== st.dev) {
      return fail(`"${args.path}" changed while being opened (it is now ${opened.isFile() ? 'a different file' : kindOf(opened)}); refusing it.`);
    }
    if (!openedPathIs(fd, realPath)) {
      return fail(`"${args.path}" was moved while being opened; refusing it. Try again.`);
    }
    const size = opened.size;
    if (looksBinary(fd, size)) {
      return fail(`"${args.path}" looks like a binary file (a NUL byte in its first ${BINARY_SNIFF_BYTES} bytes); read_file only returns text.`);
    }
    return { ok: true, op: 'read_file', path: realPath, offset, ...readPage(fd, size, offset, maxLines, maxBytes), totalBytes: size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Linux only: asks the kernel which path the fd really refers to, which catches a directory
 * component swapped for a symlink between the containment check and the open. Elsewhere
 * (no /proc) the fstat identity check is all we have.
 */
function openedPathIs(fd: number, realPath: string): boolean {
  let actual: string;
  try {
    actual = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return true;
  }
  return actual === realPath;
}

function looksBinary(fd: number, size: number): boolean {
  const head = Buffer.alloc(Math.min(BINARY_SNIFF_BYTES, size));
  let filled = 0;
  while (filled < head.length) {
    const n = fs.readSync(fd, head, filled, head.length - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  return head.subarray(0, filled).includes(0);
}

type Page = Pick<ReadFileOk, 'lines' | 'nextOffset' | 'hasMore' | 'truncated' | 'totalLines' | 'note'>;

/**
 * Streams through the file with one READ_CHUNK_BYTES buffer: counts newlines up to `offset`
 * without keeping anything, then collects lines until maxLines or maxBytes is reached, and
 * stops reading there. Memory is bounded by the buffer plus the page itself.
 *
 * Reads stop at `size` (from fstat) so a file growing under us yields a page consistent
 * with the reported totalBytes. A trailing newline ends the last line; it does not start
 * an empty one.
 */
function readPage(fd: number, size: number, offset: number, maxLines: number, maxBytes: number): Page {
  const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const lines: string[] = [];
  let parts: Buffer[] = []; // bytes of the current line, collected only once lineNo >= offset
  let partBytes = 0;
  let used = 0; // page budget spent: line bytes plus one per line
  let lineNo = 0; // 0-based index of the line that starts at lineStart
  let lineStart = 0;
  let filePos = 0;
  let truncated: ReadTruncation | undefined;
  let discarding = false; // past the cut of an over-long first line, looking for its end
  let stopped = false;

  const endLine = (): void => {
    const text = Buffer.concat(parts, partBytes).toString('utf8');
    lines.push(text.endsWith('\r') ? text.slice(0, -1) : text);
    used += partBytes + 1;
    parts = [];
    partBytes = 0;
  };

  reading: while (filePos < size) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - filePos), filePos);
    if (n === 0) break; // the file shrank since fstat
    // A view of exactly the bytes read: the tail of `buf` holds stale data from earlier reads.
    const chunk = buf.subarray(0, n);
    let i = 0;
    while (i < n) {
      const nl = chunk.indexOf(0x0a, i);
      const segEnd = nl === -1 ? n : nl;
      if (lineNo >= offset && !discarding) {
        const seg = chunk.subarray(i, segEnd);
        if (used + partBytes + seg.length + 1 > maxBytes) {
          if (lines.length > 0) {
            // This line does not fit; it starts the next page.
            truncated = 'maxBytes';
            stopped = true;
            break reading;
          }
          // A single line larger than the whole budget: return its head, skip the rest. The
          // cut is chosen on the whole head (plus the byte after it), since a character can
          // straddle the boundary between two chunks.
          const limit = Math.max(0, maxBytes - 1);
          const head = Buffer.concat([...parts, seg.subarray(0, limit - partBytes + 1)]);
          const cut = utf8Boundary(head, limit);
          parts = [head.subarray(0, cut)];
          partBytes = cut;
          endLine();
          truncated = 'longLine';
          discarding = true;
        } else {
          parts.push(Buffer.from(seg)); // copy: `buf` is overwritten by the next read
          partBytes += seg.length;
        }
      }
      if (nl === -1) break; // the line continues in the next chunk
      if (lineNo >= offset && !discarding) endLine();
      lineNo++;
      i = nl + 1;
      lineStart = filePos + i;
      if (discarding || lines.length >= maxLines) {
        if (!discarding && lineStart < size) truncated = 'maxLines';
        stopped = true;
        break reading;
      }
    }
    filePos += n;
  }

  // At end of file a last line without a trailing newline still counts as a line.
  const reachedEof = !stopped;
  if (reachedEof && lineStart < size && !discarding) {
    if (lineNo >= offset) endLine();
    lineNo++;
  } else if (reachedEof && discarding) {
    lineNo++;
  }
  const hasMore = stopped && lineStart < size;
  const page: Page = { lines, nextOffset: offset + lines.length, hasMore };
  if (truncated) page.truncated = truncated;
  if (truncated === 'longLine') {
    page.note = `line ${offset} is longer than maxBytes (${maxBytes}); only its first bytes are returned and the rest of that line is skipped.`;
  }
  if (!hasMore) {
    page.totalLines = lineNo;
    if (offset > 0 && offset >= lineNo) page.note = `offset ${offset} is past the end of the file, which has ${lineNo} lines.`;
  }
  return page;
}

/** Largest cut <= limit that does not split a UTF-8 sequence (continuation bytes are 10xxxxxx). */
function utf8Boundary(bytes: Buffer, limit: number): number {
  if (limit >= bytes.length) return bytes.length;
  let cut = limit;
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}
