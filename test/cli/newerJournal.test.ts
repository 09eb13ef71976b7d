/**
 * `serve` on a journal written by a newer agentvisor: it must stop at once
 * with the journal's own message (what version, what to do), not start on a
 * schema it does not know. The in-process side is test/unit/journalMigrations.test.ts.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { TEST_TOKEN, makeDirs } from '../helpers/server';
import { cliEnv, runCli } from './cli';

test('serve refuses a journal from a newer version, says to upgrade, and exits 1', async () => {
  const dirs = makeDirs();
  try {
    fs.mkdirSync(dirs.stateDir, { recursive: true, mode: 0o700 });
    const db = new Database(`${dirs.stateDir}/journal.db`);
    db.pragma('user_version = 999');
    db.close();
    const res = await runCli(['serve'], cliEnv(dirs, { AUTH_TOKEN: TEST_TOKEN, PORT: '0', HOST: '127.0.0.1' }), dirs.base);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/could not start: journal schema version 999 is newer than this agentvisor understands \(\d+\); upgrade agentvisor/);
    expect(res.stdout).not.toContain('listening on');
  } finally {
    fs.rmSync(dirs.base, { recursive: true, force: true });
  }
});
