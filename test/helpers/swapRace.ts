/**
 * Runs test/fixtures/swapLoop.js: a separate process that keeps swapping a directory with a
 * symlink while the test works on the path, so the race is real (not simulated). The loop is
 * bounded by a swap count and a time limit, and `stop()` ends it early and waits for it to
 * leave the directory in place again.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SWAP_LOOP = path.resolve(__dirname, '../fixtures/swapLoop.js');

export interface SwapRace {
  /** True once the loop has exited (bound reached or stopped). */
  readonly done: boolean;
  /** Ends the loop and resolves with the number of swaps made; `dir` is a directory again. */
  stop(): Promise<number>;
}

/** Swaps `dir` (a directory) with `link` (a symlink) until stopped, maxSwaps or maxMs. */
export function startSwapRace(dir: string, link: string, maxSwaps: number, maxMs: number): SwapRace {
  const stopFile = `${dir}.stop`;
  const tmp = `${dir}.swap`;
  fs.rmSync(stopFile, { force: true });
  const child = spawn(process.execPath, [SWAP_LOOP, dir, link, tmp, stopFile, String(maxSwaps), String(maxMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      done = true;
      fs.rmSync(stopFile, { force: true });
      if (code === 0) resolve(Number(out.trim()));
      else reject(new Error(`swap loop exited with ${code}`));
    });
  });
  return {
    get done() {
      return done;
    },
    stop() {
      if (!done) fs.writeFileSync(stopFile, '');
      return exited;
    },
  };
}
