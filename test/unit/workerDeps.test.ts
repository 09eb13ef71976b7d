/**
 * Every session has its own worker process, so what the worker loads is paid per
 * session in start-up time and memory (zod alone costs ~150 ms and ~10 MB, winston
 * ~50 ms): the worker's module graph must stay free of the supervisor's heavy
 * dependencies. Walks the worker's imports from its entry point (type-only
 * imports load nothing and are skipped).
 */
import fs from 'node:fs';
import path from 'node:path';

const FORBIDDEN = ['zod', 'winston', 'express', 'express-rate-limit', 'better-sqlite3', 'piscina', '@modelcontextprotocol/sdk'];

function runtimeImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  // import x from '…', import { a } from '…', import '…', export … from '…' — but not `import type` / `export type`.
  const re = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) out.push(m[1]);
  for (const m of src.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

function walk(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec) + '.ts');
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return { files, packages };
}

test('the worker loads none of the supervisor-only packages', () => {
  const { files, packages } = walk(path.resolve(__dirname, '../../src/worker/main.ts'));
  expect(files.length).toBeGreaterThan(5);
  expect([...packages].filter((p) => FORBIDDEN.includes(p))).toEqual([]);
});
