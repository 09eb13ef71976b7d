/**
 * OutputLog against a real full file system (a 1 MB tmpfs): a batch the disk
 * takes only part of (a short write) is taken back off, so a segment never
 * ends in half a line; the lines stay in memory, the output says they are not
 * persisted, and they all reach the disk, in order, once space returns.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listSegments, outputDir, segmentName } from '../../src/shared/sessionFiles';
import { NOT_PERSISTED_LINE, OutputLog, PERSISTED_AGAIN_LINE } from '../../src/worker/outputLog';
import { until } from '../helpers/server';
import { fillUp, freeUp, mountTmpfs, unmountTmpfs } from '../helpers/tmpfs';

let base: string;
let mnt: string;

beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'outputlog-full-'));
  mnt = path.join(base, 'mnt');
  mountTmpfs(mnt, 1);
});
afterEach(() => {
  unmountTmpfs(mnt);
  fs.rmSync(base, { recursive: true, force: true });
});

const FREE_BYTES = 8192;

test('a short write is taken back, the lines wait in memory, and reach the disk whole when space returns', async () => {
  const sessionDir = path.join(mnt, 'session');
  fs.mkdirSync(sessionDir);
  const problems: Array<string | null> = [];
  const log = new OutputLog({ sessionDir, capacity: 10_000, maxLineChars: 16_384, flushMs: 5, onDiskProblem: (p) => problems.push(p) });
  log.append('first line');
  log.flushSync();
  const ballast = fillUp(mnt);
  // Give back two pages: a batch larger than that is written only in part by the kernel.
  fs.truncateSync(ballast, fs.statSync(ballast).size - FREE_BYTES);

  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(60)}`);
  for (const l of lines) log.append(l);
  log.flushSync();
  const segment = path.join(outputDir(sessionDir), segmentName(0));
  const onDisk = fs.readFileSync(segment, 'utf8');
  expect(onDisk).toBe('first line\n');
  expect(log.diskProblem).toBe('disk full');
  expect(problems).toEqual(['disk full']);
  const marker = NOT_PERSISTED_LINE('disk full');
  expect(log.ring.read(0, 1_000).lines).toEqual(['first line', ...lines, marker]);

  freeUp(mnt);
  await until(() => log.diskProblem === null, 10_000, 'the retry to write the kept lines');
  expect(problems).toEqual(['disk full', null]);
  log.close();
  expect(listSegments(outputDir(sessionDir))).toEqual([0]);
  expect(fs.readFileSync(segment, 'utf8')).toBe(['first line', ...lines, marker, PERSISTED_AGAIN_LINE].join('\n') + '\n');
});
