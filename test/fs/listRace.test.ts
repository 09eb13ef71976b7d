/**
 * list_directory against a subdirectory that another process keeps swapping with a symlink
 * to /etc (#12 item 11). The walk must descend by handle: a swap may cost that entry an
 * error, but never list another tree.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fsTask, { type ListDirectoryOk } from '../../src/supervisor/fs/fsTasks';
import { startSwapRace } from '../helpers/swapRace';

/** Bounds for the race: enough listings to hit the window many times, short enough for CI. */
const MAX_SWAPS = 2_000_000;
const MAX_RACE_MS = 8_000;
const MAX_LISTINGS = 3_000;

let base: string;
let ws: string;

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'listrace-')));
  ws = path.join(base, 'ws');
  fs.mkdirSync(path.join(ws, 'sub', 'inner'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'sub', 'f0'), 'zero\n');
  fs.writeFileSync(path.join(ws, 'sub', 'inner', 'f1'), 'one\n');
  fs.symlinkSync('/etc', path.join(ws, 'link'));
});

afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

test('a subdirectory swapped for a symlink to /etc mid-walk never lists /etc', async () => {
  // Whichever name holds the real directory at the moment it is listed, only its own names may appear.
  // (sub.swap is the loop's parking name and sub.stop its stop file.)
  const allowed = new Set(['sub', 'link', 'sub.swap'].flatMap((p) => [p, `${p}/f0`, `${p}/inner`, `${p}/inner/f1`]).concat('sub.stop'));
  const race = startSwapRace(path.join(ws, 'sub'), path.join(ws, 'link'), MAX_SWAPS, MAX_RACE_MS);
  const escaped: string[] = [];
  const entryErrors: string[] = [];
  let listings = 0;
  let descended = 0;
  try {
    for (; listings < MAX_LISTINGS && !race.done; listings++) {
      const result = fsTask({ op: 'list_directory', roots: [ws], path: ws, recursive: true });
      if (!result.ok) continue; // the listed root itself is never swapped, but an error is not an escape
      const entries = (result as ListDirectoryOk).entries;
      for (const entry of entries) if (!allowed.has(entry.name)) escaped.push(entry.name);
      for (const entry of entries) if (entry.error) entryErrors.push(entry.error);
      if (entries.some((e) => e.name.endsWith('/inner/f1'))) descended++;
      // Let the swap loop's exit be noticed.
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await race.stop();
  }
  // The walk really descended while racing, and swaps landed between listing and opening...
  expect(descended).toBeGreaterThan(0);
  expect(entryErrors.length).toBeGreaterThan(0);
  // ...each costing its entry an error that says what happened,
  expect(entryErrors.filter((e) => !/was replaced|was removed or renamed/.test(e))).toEqual([]);
  // ...and not one name from /etc leaked in.
  expect({ listings, escaped: [...new Set(escaped)].slice(0, 10), count: escaped.length }).toEqual({ listings, escaped: [], count: 0 });
});
