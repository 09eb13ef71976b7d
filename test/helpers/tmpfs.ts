/**
 * A real small file system for disk-full tests: a tmpfs mounted on a test's
 * STATE_DIR (the tests run as root), filled with a ballast file until writes
 * fail with ENOSPC, and emptied again to give the space back.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function mountTmpfs(dir: string, sizeMb: number): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
}

/** Unmounts, whatever still holds it open (a lazy unmount detaches it at once). */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // not mounted (the mount itself failed)
  }
}

const BALLAST = 'ballast';

/** Writes a ballast file until the file system refuses (ENOSPC); returns its path. */
export function fillUp(dir: string): string {
  const file = path.join(dir, BALLAST);
  const fd = fs.openSync(file, 'a');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          if (fs.writeSync(fd, chunk) < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

export function freeUp(dir: string): void {
  fs.rmSync(path.join(dir, BALLAST), { force: true });
}
