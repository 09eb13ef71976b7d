import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsPool, resolveTaskFile } from '../../src/supervisor/fs/fsPool';
import fsTask, { DEFAULT_MAX_LINES, MAX_LIST_DEPTH, MAX_LIST_ENTRIES, MAX_MAX_LINES, type DirEntry, type ListDirectoryOk } from '../../src/supervisor/fs/fsTasks';

// The pool runs the compiled task module from dist/ (see resolveTaskFile); `npm test` builds
// first. The spy test calls the task function in-process, where fs calls can be counted.

const BIG_LINE_BYTES = 100; // every line of big.txt, "\n" included
const BIG_LINES = 500_000; // 50 MB

let base: string;
let ws: string;
let outside: string;
let roots: string[];
let pool: FsPool;
let server: net.Server;

function bigLine(n: number): string {
  const head = `L${String(n).padStart(9, '0')} `;
  return head + 'x'.repeat(BIG_LINE_BYTES - 1 - head.length) + '\n';
}

function expectOk<T extends { ok: true }>(result: T | { ok: false; error: string }): T {
  if (!result.ok) throw new Error(`expected ok, got error: ${result.error}`);
  return result;
}

function expectError(result: { ok: true } | { ok: false; error: string }): string {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result).slice(0, 300)}`);
  return result.error;
}

beforeAll(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fstools-')));
  ws = path.join(base, 'ws');
  outside = path.join(base, 'outside');
  fs.mkdirSync(ws);
  fs.mkdirSync(outside);
  roots = [ws];

  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  fs.writeFileSync(path.join(ws, 'small.txt'), Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n') + '\n');
  fs.writeFileSync(path.join(ws, 'crlf.txt'), 'one\r\ntwo\r\nthree');
  fs.writeFileSync(path.join(ws, 'empty.txt'), '');
  fs.writeFileSync(path.join(ws, 'binary.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]));
  fs.writeFileSync(path.join(ws, 'many.txt'), Array.from({ length: 20_000 }, (_, i) => String(i)).join('\n') + '\n');
  // 300 KB line of 3-byte characters, then two short lines.
  fs.writeFileSync(path.join(ws, 'longline.txt'), '€'.repeat(100_000) + '\nafter\nend\n');
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(ws, 'link-out'));
  fs.symlinkSync(outside, path.join(ws, 'link-dir-out'));
  fs.symlinkSync('/dev/null', path.join(ws, 'link-devnull'));
  fs.symlinkSync(path.join(ws, 'small.txt'), path.join(ws, 'link-in'));
  execFileSync('mkfifo', [path.join(ws, 'fifo')]);
  server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path.join(ws, 'sock'), resolve));

  // 50 MB of numbered fixed-width lines, written in 1 MB blocks.
  const fd = fs.openSync(path.join(ws, 'big.txt'), 'w');
  const perBlock = 10_000;
  for (let start = 0; start < BIG_LINES; start += perBlock) {
    let block = '';
    for (let n = start; n < start + perBlock; n++) block += bigLine(n);
    fs.writeSync(fd, block);
  }
  fs.closeSync(fd);

  // deep/d1/d2/d3/d4/file.txt to check the depth limit.
  fs.mkdirSync(path.join(ws, 'deep', 'd1', 'd2', 'd3', 'd4'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'deep', 'd1', 'd2', 'd3', 'd4', 'file.txt'), 'x');
  fs.writeFileSync(path.join(ws, 'deep', 'top.txt'), '12345');
  fs.symlinkSync(outside, path.join(ws, 'deep', 'escape'));

  // tree/ with 30 directories of 100 files each: 3030 entries.
  for (let d = 0; d < 30; d++) {
    const dir = path.join(ws, 'tree', `dir${String(d).padStart(2, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), '');
  }

  pool = new FsPool({ maxThreads: 2 });
}, 120_000);

afterAll(async () => {
  await pool?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  fs.rmSync(base, { recursive: true, force: true });
});

describe('FsPool setup', () => {
  it('points piscina at the compiled task module under ts-jest', () => {
    expect(resolveTaskFile()).toBe(path.resolve(__dirname, '..', '..', 'dist', 'src', 'supervisor', 'fs', 'fsTasks.js'));
    expect(fs.existsSync(resolveTaskFile())).toBe(true);
  });

  it('refuses to start without the compiled module, naming the fix', () => {
    expect(() => new FsPool({ taskFile: path.join(base, 'missing.js') })).toThrow(/run "npm run build" first/);
  });
});

describe('read_file', () => {
  it('reads a small file whole', async () => {
    const result = expectOk(await pool.readFile({ path: 'small.txt' }, roots));
    expect(result).toEqual({
      ok: true,
      op: 'read_file',
      path: path.join(ws, 'small.txt'),
      offset: 0,
      lines: Array.from({ length: 10 }, (_, i) => `line ${i}`),
      nextOffset: 10,
      hasMore: false,
      totalBytes: fs.statSync(path.join(ws, 'small.txt')).size,
      totalLines: 10,
    });
  });

  it('pages by maxLines and offset until hasMore is false', async () => {
    const seen: string[] = [];
    let offset = 0;
    let calls = 0;
    for (;;) {
      const page = expectOk(await pool.readFile({ path: 'small.txt', offset, maxLines: 3 }, roots));
      calls++;
      expect(page.offset).toBe(offset);
      seen.push(...page.lines);
      expect(page.nextOffset).toBe(offset + page.lines.length);
      if (!page.hasMore) {
        expect(page.truncated).toBeUndefined();
        expect(page.totalLines).toBe(10);
        break;
      }
      expect(page.truncated).toBe('maxLines');
      expect(page.lines).toHaveLength(3);
      offset = page.nextOffset;
    }
    expect(calls).toBe(4);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
  });

  it('stops a page at maxBytes without splitting a line', async () => {
    // "line N" is 6 bytes, costing 7 with its line break: 20 bytes hold two lines.
    const page = expectOk(await pool.readFile({ path: 'small.txt', maxBytes: 20 }, roots));
    expect(page.lines).toEqual(['line 0', 'line 1']);
    expect(page.truncated).toBe('maxBytes');
    expect(page.hasMore).toBe(true);
    expect(page.nextOffset).toBe(2);
    expect(page.totalLines).toBeUndefined();
  });

  it('cuts a line longer than maxBytes on a character boundary and skips its rest', async () => {
    const page = expectOk(await pool.readFile({ path: 'longline.txt', maxBytes: 1000 }, roots));
    expect(page.lines).toHaveLength(1);
    const line = page.lines[0]!;
    // 999 bytes of room: 333 whole 3-byte characters, no replacement characters.
    expect(line).toBe('€'.repeat(333));
    expect(page.truncated).toBe('longLine');
    expect(page.nextOffset).toBe(1);
    expect(page.hasMore).toBe(true);
    expect(page.note).toContain('longer than maxBytes (1000)');
    const next = expectOk(await pool.readFile({ path: 'longline.txt', offset: page.nextOffset }, roots));
    expect(next.lines).toEqual(['after', 'end']);
    expect(next.hasMore).toBe(false);
    expect(next.totalLines).toBe(3);
  });

  it('does not split a character that straddles two read chunks when cutting a long line', async () => {
    // Read chunks are 64 KiB = 65536 bytes, not a multiple of 3: with 65537 bytes of room the
    // cut falls inside the character that starts at byte 65535, the last byte of chunk one.
    const page = expectOk(await pool.readFile({ path: 'longline.txt', maxBytes: 65_538 }, roots));
    expect(page.lines).toEqual(['€'.repeat(21_845)]);
    expect(page.truncated).toBe('longLine');
  });

  it('strips CRLF, counts a last line without newline, and handles an empty file', async () => {
    const crlf = expectOk(await pool.readFile({ path: 'crlf.txt' }, roots));
    expect(crlf.lines).toEqual(['one', 'two', 'three']);
    expect(crlf.totalLines).toBe(3);
    const empty = expectOk(await pool.readFile({ path: 'empty.txt' }, roots));
    expect(empty).toMatchObject({ lines: [], nextOffset: 0, hasMore: false, totalBytes: 0, totalLines: 0 });
  });

  it('says so when the offset is past the end', async () => {
    const page = expectOk(await pool.readFile({ path: 'small.txt', offset: 50 }, roots));
    expect(page).toMatchObject({ lines: [], nextOffset: 50, hasMore: false, totalLines: 10 });
    expect(page.note).toBe('offset 50 is past the end of the file, which has 10 lines.');
  });

  it('applies the default and maximum maxLines', async () => {
    const byDefault = expectOk(await pool.readFile({ path: 'many.txt' }, roots));
    expect(byDefault.lines).toHaveLength(DEFAULT_MAX_LINES);
    expect(byDefault.lines[DEFAULT_MAX_LINES - 1]).toBe(String(DEFAULT_MAX_LINES - 1));
    const capped = expectOk(await pool.readFile({ path: 'many.txt', maxLines: 50_000, maxBytes: 1_000_000 }, roots));
    expect(capped.lines).toHaveLength(MAX_MAX_LINES);
    expect(capped.nextOffset).toBe(MAX_MAX_LINES);
    expect(capped.truncated).toBe('maxLines');
  });

  it('refuses malformed paging arguments', async () => {
    expect(expectError(await pool.readFile({ path: 'small.txt', maxLines: 0 }, roots))).toBe('maxLines must be at least 1, got 0.');
    expect(expectError(await pool.readFile({ path: 'small.txt', offset: -1 }, roots))).toBe('offset must be at least 0, got -1.');
    expect(expectError(await pool.readFile({ path: 'small.txt', offset: 1.5 }, roots))).toBe('offset must be an integer, got 1.5.');
  });

  it('pages through a 50 MB file without stalling the event loop', async () => {
    const file = path.join(ws, 'big.txt');
    expect(fs.statSync(file).size).toBe(BIG_LINES * BIG_LINE_BYTES);

    let maxGap = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    let offset = 0;
    let pages = 0;
    let total = 0;
    try {
      for (;;) {
        const page = expectOk(await pool.readFile({ path: 'big.txt', offset, maxLines: MAX_MAX_LINES, maxBytes: 1_000_000 }, roots));
        expect(page.totalBytes).toBe(BIG_LINES * BIG_LINE_BYTES);
        expect(page.lines[0]).toBe(bigLine(offset).slice(0, -1));
        expect(page.lines[page.lines.length - 1]).toBe(bigLine(offset + page.lines.length - 1).slice(0, -1));
        total += page.lines.length;
        pages++;
        if (!page.hasMore) break;
        offset = page.nextOffset;
      }
    } finally {
      clearInterval(ticker);
    }
    expect(total).toBe(BIG_LINES);
    expect(pages).toBe(BIG_LINES / MAX_MAX_LINES);
    // Reading happens in the workers: the supervisor's timers keep firing throughout.
    expect(maxGap).toBeLessThan(250);

    // Jumping straight to a late offset works too, and a default page stays within 100 kB.
    const late = expectOk(await pool.readFile({ path: 'big.txt', offset: BIG_LINES - 5 }, roots));
    expect(late.lines).toEqual([0, 1, 2, 3, 4].map((i) => bigLine(BIG_LINES - 5 + i).slice(0, -1)));
    expect(late.hasMore).toBe(false);
    const first = expectOk(await pool.readFile({ path: 'big.txt' }, roots));
    expect(first.lines).toHaveLength(100_000 / BIG_LINE_BYTES);
    expect(first.truncated).toBe('maxBytes');
  });

  it('refuses binary files', async () => {
    expect(expectError(await pool.readFile({ path: 'binary.bin' }, roots))).toBe('"binary.bin" looks like a binary file (a NUL byte in its first 8192 bytes); read_file only returns text.');
  });

  it('refuses a FIFO without blocking', async () => {
    const started = Date.now();
    expect(expectError(await pool.readFile({ path: 'fifo' }, roots))).toBe('"fifo" is a FIFO (named pipe), not a regular file; read_file only reads regular files.');
    // Well under the pool's 30 s task timeout, which would otherwise turn a hang into an error.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses sockets and devices', async () => {
    expect(expectError(await pool.readFile({ path: 'sock' }, roots))).toBe('"sock" is a socket, not a regular file; read_file only reads regular files.');
    expect(expectError(await pool.readFile({ path: '/dev/null' }, [ws, '/dev']))).toBe('"/dev/null" is a character device, not a regular file; read_file only reads regular files.');
  });

  it('refuses symlinks that lead outside, and follows those that stay inside', async () => {
    const outsideMessage = (p: string): string => `path "${p}" is outside the allowed roots (${ws}). Use a path inside WORKSPACE_DIR or an active session's cwd.`;
    expect(expectError(await pool.readFile({ path: 'link-out' }, roots))).toBe(outsideMessage('link-out'));
    expect(expectError(await pool.readFile({ path: 'link-dir-out/secret.txt' }, roots))).toBe(outsideMessage('link-dir-out/secret.txt'));
    expect(expectError(await pool.readFile({ path: 'link-devnull' }, roots))).toBe(outsideMessage('link-devnull'));
    expect(expectError(await pool.readFile({ path: '../outside/secret.txt' }, roots))).toBe(outsideMessage('../outside/secret.txt'));
    const inside = expectOk(await pool.readFile({ path: 'link-in' }, roots));
    expect(inside.path).toBe(path.join(ws, 'small.txt'));
    expect(inside.lines[0]).toBe('line 0');
  });

  it('gives clear errors for missing files, directories, NUL and empty paths', async () => {
    expect(expectError(await pool.readFile({ path: 'nope.txt' }, roots))).toBe('no such file or directory: "nope.txt". Check the name with list_directory.');
    expect(expectError(await pool.readFile({ path: 'deep' }, roots))).toBe('"deep" is a directory; use list_directory to see its contents.');
    expect(expectError(await pool.readFile({ path: 'small.txt\0' }, roots))).toBe('path contains a NUL byte, which no file name can contain. Remove it.');
    expect(expectError(await pool.readFile({ path: '' }, roots))).toMatch(/^path is empty\./);
  });
});

describe('list_directory', () => {
  it('lists one level with types, sizes and symlink targets', async () => {
    const result = expectOk(await pool.listDirectory({ path: 'deep' }, roots));
    expect(result).toEqual({
      ok: true,
      op: 'list_directory',
      path: path.join(ws, 'deep'),
      entries: [
        { name: 'd1', type: 'directory' },
        { name: 'escape', type: 'symlink', target: outside },
        { name: 'top.txt', type: 'file', size: 5 },
      ],
      truncated: false,
      maxEntries: MAX_LIST_ENTRIES,
      maxDepth: 1,
    });
  });

  it('reports FIFOs, sockets and links as such at the workspace root', async () => {
    const result = expectOk(await pool.listDirectory({ path: '.' }, roots));
    const byName = new Map(result.entries.map((e) => [e.name, e]));
    expect(byName.get('fifo')).toEqual({ name: 'fifo', type: 'other' });
    expect(byName.get('sock')).toEqual({ name: 'sock', type: 'other' });
    expect(byName.get('link-dir-out')).toEqual({ name: 'link-dir-out', type: 'symlink', target: outside });
    expect(byName.get('link-devnull')).toEqual({ name: 'link-devnull', type: 'symlink', target: '/dev/null' });
    expect(byName.get('big.txt')).toEqual({ name: 'big.txt', type: 'file', size: BIG_LINES * BIG_LINE_BYTES });
  });

  it('walks to depth 3 and never follows a symlinked directory', async () => {
    const result = expectOk(await pool.listDirectory({ path: 'deep', recursive: true }, roots));
    expect(result.maxDepth).toBe(MAX_LIST_DEPTH);
    expect(result.entries.map((e: DirEntry) => e.name)).toEqual(['d1', 'escape', 'top.txt', 'd1/d2', 'd1/d2/d3']);
    expect(result.entries.find((e) => e.name === 'escape')).toEqual({ name: 'escape', type: 'symlink', target: outside });
    expect(result.entries.some((e) => e.name.startsWith('escape/'))).toBe(false);
  });

  it('lists a big tree completely under the default bound', async () => {
    const result = expectOk(await pool.listDirectory({ path: 'tree', recursive: true }, roots));
    expect(result.entries).toHaveLength(30 + 30 * 100);
    expect(result.truncated).toBe(false);
    expect(result.entries[0]).toEqual({ name: 'dir00', type: 'directory' });
    expect(result.entries).toContainEqual({ name: 'dir29/f99.txt', type: 'file', size: 0 });
  });

  it('cuts a big tree at a lowered bound, breadth first', async () => {
    const result = expectOk(await pool.listDirectory({ path: 'tree', recursive: true, maxEntries: 500 }, roots));
    expect(result.truncated).toBe(true);
    expect(result.maxEntries).toBe(500);
    expect(result.entries).toHaveLength(500);
    // All 30 top-level directories come first, then the files of the first ones.
    expect(result.entries.slice(0, 30).every((e) => e.type === 'directory' && !e.name.includes('/'))).toBe(true);
    expect(result.entries.slice(30).every((e) => e.type === 'file')).toBe(true);
    // A bound equal to the exact count is not a truncation.
    const exact = expectOk(await pool.listDirectory({ path: 'tree/dir00', maxEntries: 100 }, roots));
    expect(exact.entries).toHaveLength(100);
    expect(exact.truncated).toBe(false);
    // Above the cap is lowered to the cap.
    const capped = expectOk(await pool.listDirectory({ path: 'tree/dir00', maxEntries: 1_000_000 }, roots));
    expect(capped.maxEntries).toBe(MAX_LIST_ENTRIES);
  });

  it('stops the walk itself once the bound is hit', () => {
    // Count the syscalls of an in-process run: a walk that listed everything and trimmed
    // afterwards would lstat all 3030 entries and open all 31 directories.
    const realFs: typeof fs = require('node:fs');
    const lstat = jest.spyOn(realFs, 'lstatSync');
    const opendir = jest.spyOn(realFs, 'opendirSync');
    try {
      const result = fsTask({ op: 'list_directory', path: 'tree', recursive: true, maxEntries: 40, roots }) as ListDirectoryOk;
      expect(result.ok).toBe(true);
      expect(result.entries).toHaveLength(40);
      expect(result.truncated).toBe(true);
      // The listed dir + 40 entries; the lower bounds prove the spies see the worker code's calls.
      expect(lstat.mock.calls.length).toBeGreaterThanOrEqual(40);
      expect(lstat.mock.calls.length).toBeLessThanOrEqual(41);
      expect(opendir.mock.calls.length).toBeGreaterThanOrEqual(2); // tree/ and dir00/
      expect(opendir.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      lstat.mockRestore();
      opendir.mockRestore();
    }
  });

  it('gives clear errors for files, outside paths, symlinks out and missing paths', async () => {
    expect(expectError(await pool.listDirectory({ path: 'small.txt' }, roots))).toBe('"small.txt" is a file, not a directory; use read_file to read it.');
    expect(expectError(await pool.listDirectory({ path: '..' }, roots))).toBe(`path ".." is outside the allowed roots (${ws}). Use a path inside WORKSPACE_DIR or an active session's cwd.`);
    expect(expectError(await pool.listDirectory({ path: 'link-dir-out' }, roots))).toBe(
      `path "link-dir-out" is outside the allowed roots (${ws}). Use a path inside WORKSPACE_DIR or an active session's cwd.`,
    );
    expect(expectError(await pool.listDirectory({ path: 'gone' }, roots))).toBe('no such file or directory: "gone". Check the name with list_directory.');
    expect(expectError(await pool.listDirectory({ path: 'fifo' }, roots))).toBe('"fifo" is a FIFO (named pipe), not a directory.');
  });
});

describe('failures as values', () => {
  it('never throws from the task function', () => {
    expect(fsTask({ op: 'nope', roots } as never)).toEqual({ ok: false, error: 'unknown operation "nope"; expected read_file or list_directory.' });
    expect(fsTask(null as never)).toEqual({ ok: false, error: 'malformed request: expected an object.' });
    expect(fsTask({ op: 'read_file', path: 42, roots } as never)).toEqual({ ok: false, error: 'path must be a string.' });
    expect(fsTask({ op: 'read_file', path: 'small.txt' } as never)).toMatchObject({ ok: false, error: expect.stringContaining('no allowed roots') });
  });

  it('stops an overdue task and says why', async () => {
    const slow = new FsPool({ maxThreads: 1, taskTimeoutMs: 1 });
    try {
      const result = await slow.readFile({ path: 'big.txt', offset: BIG_LINES - 1 }, roots);
      expect(expectError(result)).toMatch(/^read_file on "big.txt" took longer than 1 ms and was stopped/);
    } finally {
      await slow.close();
    }
  });

  it('answers with an error after close', async () => {
    const closing = new FsPool({ maxThreads: 1 });
    expect(expectOk(await closing.readFile({ path: 'small.txt' }, roots)).lines[0]).toBe('line 0');
    await closing.close();
    expect(expectError(await closing.listDirectory({ path: '.' }, roots))).toBe('the filesystem tools are shut down (the supervisor is stopping).');
  });
});
