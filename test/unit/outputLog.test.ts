import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listSegments, loadOutput, outputDir, segmentName } from '../../src/shared/sessionFiles';
import { OutputLog } from '../../src/worker/outputLog';
import { CUT_MARK } from '../../src/shared/sanitize';

let base: string;
let dirCount = 0;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'outputlog-'));
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

function freshSessionDir(): string {
  const dir = path.join(base, `s${dirCount++}`);
  fs.mkdirSync(dir);
  return dir;
}

function writeLines(sessionDir: string, lines: string[], capacity: number, maxLineChars = 10_000): OutputLog {
  const log = new OutputLog({ sessionDir, capacity, maxLineChars, flushMs: 5 });
  for (const l of lines) log.append(l);
  return log;
}

const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

describe('sessionFiles', () => {
  test('segmentName pads the first offset to 12 digits', () => {
    expect(segmentName(0)).toBe('000000000000.log');
    expect(segmentName(1050)).toBe('000000001050.log');
  });

  test('listSegments returns segment offsets oldest first and ignores other files', () => {
    const dir = path.join(freshSessionDir(), 'output');
    fs.mkdirSync(dir);
    for (const name of [segmentName(200), segmentName(0), segmentName(100), 'notes.txt', '123.log']) {
      fs.writeFileSync(path.join(dir, name), '');
    }
    expect(listSegments(dir)).toEqual([0, 100, 200]);
  });

  test('listSegments of a missing directory is empty, and loadOutput gives an empty ring', () => {
    const dir = freshSessionDir();
    expect(listSegments(path.join(dir, 'output'))).toEqual([]);
    const ring = loadOutput(dir, 10);
    expect(ring.nextOffset).toBe(0);
    expect(ring.read(0, 10).lines).toEqual([]);
  });
});

describe('OutputLog', () => {
  test('appended lines survive close() and load back with the same offsets', () => {
    const dir = freshSessionDir();
    const lines = [...numbered(0, 50), '', 'with\ttab', 'ünïcödé ✓'];
    const log = writeLines(dir, lines, 1000);
    expect(log.nextOffset).toBe(lines.length);
    log.close();

    const ring = loadOutput(dir, 1000);
    expect(ring.nextOffset).toBe(lines.length);
    const r = ring.read(0, 10_000);
    expect(r.lines).toEqual(lines);
    expect(r.offset).toBe(0);
    expect(r.dropped).toBe(0);
  });

  test('the flush timer writes lines to disk without close()', () => {
    // Jest's clock: the timer is run at its moment, not waited for.
    jest.useFakeTimers();
    const dir = freshSessionDir();
    const log = writeLines(dir, ['a', 'b'], 1000);
    try {
      const segment = path.join(outputDir(dir), segmentName(0));
      const onDisk = () => (fs.existsSync(segment) ? fs.readFileSync(segment, 'utf8') : '');
      expect(onDisk()).toBe('');
      jest.runOnlyPendingTimers();
      expect(onDisk()).toBe('a\nb\n');
    } finally {
      log.close();
      jest.useRealTimers();
    }
  });

  test('rotation keeps at most two segments, and loadOutput gives the last lines at their true offsets', () => {
    const dir = freshSessionDir();
    const capacity = 100;
    const log = new OutputLog({ sessionDir: dir, capacity, maxLineChars: 10_000, flushMs: 5 });
    let maxSegments = 0;
    for (let i = 0; i < 1050; i++) {
      log.append(`line ${i}`);
      maxSegments = Math.max(maxSegments, listSegments(outputDir(dir)).length);
    }
    log.close();
    expect(maxSegments).toBeLessThanOrEqual(2);
    expect(listSegments(outputDir(dir))).toEqual([900, 1000]);

    const ring = loadOutput(dir, capacity);
    expect(ring.nextOffset).toBe(1050);
    const r = ring.read(0, 10_000);
    expect(r.offset).toBe(950);
    expect(r.dropped).toBe(950);
    expect(r.lines).toEqual(numbered(950, 1050));
    // Every kept line sits at the offset it was written at.
    expect(ring.read(1000, 1).lines).toEqual(['line 1000']);
  });

  test('a new OutputLog on the same directory continues the offsets (resume)', () => {
    const dir = freshSessionDir();
    const capacity = 100;
    writeLines(dir, numbered(0, 130), capacity).close();

    const resumed = new OutputLog({ sessionDir: dir, capacity, maxLineChars: 10_000, flushMs: 5 });
    expect(resumed.nextOffset).toBe(130);
    expect(resumed.ring.read(129, 1).lines).toEqual(['line 129']);
    for (const l of numbered(130, 260)) resumed.append(l);
    expect(resumed.nextOffset).toBe(260);
    resumed.close();

    expect(listSegments(outputDir(dir)).length).toBeLessThanOrEqual(2);
    const r = loadOutput(dir, capacity).read(0, 10_000);
    expect(r.offset).toBe(160);
    expect(r.lines).toEqual(numbered(160, 260));
  });

  test('half a line left by a worker killed mid-write is dropped, and the resumed session does not continue it', () => {
    const dir = freshSessionDir();
    writeLines(dir, numbered(0, 3), 100).close();
    fs.appendFileSync(path.join(outputDir(dir), segmentName(0)), 'half a li');
    expect(loadOutput(dir, 100).read(0, 100).lines).toEqual(numbered(0, 3));

    const resumed = writeLines(dir, ['after resume'], 100);
    expect(resumed.nextOffset).toBe(4);
    resumed.close();
    expect(fs.readFileSync(path.join(outputDir(dir), segmentName(0)), 'utf8')).toBe([...numbered(0, 3), 'after resume'].join('\n') + '\n');
    expect(loadOutput(dir, 100).read(0, 100).lines).toEqual([...numbered(0, 3), 'after resume']);
  });

  test('resuming right after a rotation (empty newest segment) continues correctly', () => {
    const dir = freshSessionDir();
    writeLines(dir, numbered(0, 200), 100).close();
    expect(listSegments(outputDir(dir))).toEqual([100, 200]);

    const resumed = writeLines(dir, numbered(200, 205), 100);
    resumed.close();
    const r = loadOutput(dir, 100).read(150, 1000);
    expect(r.offset).toBe(150);
    expect(r.lines).toEqual(numbered(150, 205));
  });

  test('lines longer than maxLineChars are split into marked pieces, each its own offset', () => {
    const dir = freshSessionDir();
    const max = CUT_MARK.length + 10;
    const log = writeLines(dir, ['short', 'x'.repeat(20) + 'y'.repeat(max - 5), 'end'], 1000, max);
    expect(log.nextOffset).toBe(5);
    log.close();
    const x10 = 'x'.repeat(10) + CUT_MARK;
    expect(loadOutput(dir, 1000).read(0, 100).lines).toEqual(['short', x10, x10, 'y'.repeat(max - 5), 'end']);
  });

  // #12 item 8: a line holding a newline was one line in the ring and two on disk.
  test('a line holding newlines or control characters counts the same in memory and on disk', () => {
    const dir = freshSessionDir();
    const log = writeLines(dir, ['one\ntwo', 'three\r\nfour\x1b]0;title\x07', 'five\x00'], 1000);
    const live = log.ring.read(0, 100);
    log.close();
    expect(live.lines).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(loadOutput(dir, 1000).read(0, 100)).toEqual(live);
  });

  // Reloading with a larger RING_LINES than the segments were written with (raised between runs).
  test('loading with a larger capacity than the segments were written with', () => {
    const dir = freshSessionDir();
    writeLines(dir, numbered(0, 1050), 100).close();
    const r = loadOutput(dir, 1000).read(0, 10_000);
    expect(r.offset).toBe(900);
    expect(r.dropped).toBe(900);
    expect(r.lines).toEqual(numbered(900, 1050));
  });

  test('append after close() is ignored', () => {
    const dir = freshSessionDir();
    const log = writeLines(dir, ['kept'], 1000);
    log.close();
    log.append('lost');
    expect(log.nextOffset).toBe(1);
    expect(loadOutput(dir, 1000).read(0, 10).lines).toEqual(['kept']);
  });
});
