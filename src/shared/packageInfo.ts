/**
 * Where the package is installed and its version. Found by walking up from this file to the
 * package.json named agentvisor, so it holds compiled (dist/src/shared) and from source under
 * `npm run dev` (src/shared) alike; a fixed `../../..` held only for the compiled layout.
 */
import fs from 'node:fs';
import path from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'agentvisor') return dir;
    } catch {
      // no package.json here (or not ours): keep walking
    }
    if (path.dirname(dir) === dir) throw new Error(`agentvisor's package.json not found above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);
export const VERSION: string = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
