/**
 * Doctor: the runtime — Node.js and the native modules agentvisor loads.
 */
import os from 'node:os';
import type { IPty } from 'node-pty';
import { PTY_FIX, loadPty } from '../../shared/ptyLoader';
import { type Check, fail, firstLine, ok, warn } from './check';
import { DoctorTimeouts } from './timeouts';

export function nodeCheck(): Check {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? ok('node', `Node.js ${process.versions.node}`)
    : fail('node', `Node.js ${process.versions.node} is too old: agentvisor needs 20 or later`, 'install Node.js 20 or later (e.g. from nodejs.org or with nvm) and npm install again');
}

export function sqliteCheck(): Check {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here so a failed build is a check result
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(':memory:');
    const v = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    db.close();
    return ok('better-sqlite3', `better-sqlite3 loads (SQLite ${v})`);
  } catch (err) {
    return fail(
      'better-sqlite3',
      `better-sqlite3 does not load: ${firstLine((err as Error).message)}`,
      'run npm rebuild better-sqlite3 in the agentvisor directory (needs python3, make and a C++ compiler)',
    );
  }
}

/**
 * Loads node-pty and runs a tiny program in a terminal: the way `codex exec` is run. node-pty is
 * optional, so its absence is a warning (Claude and Codex over app-server need no terminal); one
 * that is installed but broken fails.
 */
export async function ptyCheck(): Promise<Check> {
  const fix = 'run npm rebuild node-pty in the agentvisor directory (needs python3, make and a C++ compiler); "posix_spawnp failed" means its spawn-helper is not executable: chmod +x it';
  const loaded = loadPty();
  if (!loaded.ok) {
    return warn('node-pty', `${loaded.error}: Claude sessions and Codex over app-server work; Codex over exec (CODEX_PROTOCOL=exec) is refused`, PTY_FIX);
  }
  const pty = loaded.pty;
  return new Promise<Check>((resolve) => {
    let term: IPty;
    let out = '';
    const timer = setTimeout(() => {
      try {
        term.kill('SIGKILL');
      } catch {
        // already gone
      }
      resolve(fail('node-pty', `a program started in a terminal did not finish within ${DoctorTimeouts.ptyMs / 1000} s`, fix));
    }, DoctorTimeouts.ptyMs);
    try {
      term = pty.spawn(process.execPath, ['-e', 'process.stdout.write("pty-ok")'], { cols: 80, rows: 24, cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    } catch (err) {
      clearTimeout(timer);
      resolve(fail('node-pty', `node-pty loads but cannot start a program: ${firstLine((err as Error).message)}`, fix));
      return;
    }
    term.onData((d) => (out += d));
    term.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve(
        exitCode === 0 && out.includes('pty-ok')
          ? ok('node-pty', 'node-pty loads and runs a program in a terminal')
          : fail('node-pty', `a program run in a terminal exited with ${exitCode} and printed ${JSON.stringify(out.slice(0, 80))}`, fix),
      );
    });
  });
}
