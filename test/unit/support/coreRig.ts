/**
 * The session core built in-process for its tests: SessionManager with the fake
 * launcher (FakeWorker on the real IPC protocol), a real journal, and timings
 * shrunk so each case takes milliseconds. Shared by the core's test files.
 */
import fs from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import { type Config, loadConfig } from '../../../src/supervisor/config';
import { Journal } from '../../../src/supervisor/journal';
import { SessionManager } from '../../../src/supervisor/sessionManager';
import { type FakeWorker, fakeLauncher } from './fakeWorker';

const FAKE_CLAUDE = path.resolve(__dirname, '../../fixtures/fake-claude.js');
const silentLog = winston.createLogger({ silent: true });

/** A core over `dir`/journal.db; the workers it launches are pushed to `workers`. */
export function makeCore(dir: string, workers: FakeWorker[], greeting: string[]): { journal: Journal; core: SessionManager; config: Config } {
  const config = loadConfig({ STATE_DIR: path.join(dir, 'state'), WORKSPACE_DIR: path.join(dir, 'ws'), CLAUDE_BIN: FAKE_CLAUDE, START_OUTPUT_WAIT: '2000', KILL_GRACE: '500' }, dir);
  const journal = new Journal(path.join(dir, 'journal.db'));
  const core = new SessionManager(config, journal, silentLog, undefined, {
    launch: fakeLauncher(workers, greeting),
    timeouts: { heartbeatIntervalMs: 20, heartbeatGraceMs: 150, reconnectDelayMs: 10 },
  });
  return { journal, core, config };
}

/** Everything makeCore and its workers opened, closed; the directory removed. */
export async function disposeCore(core: SessionManager, workers: FakeWorker[], journal: Journal, dir: string): Promise<void> {
  await core.close({ killSessions: false });
  await Promise.all(workers.map((w) => w.dispose()));
  journal.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
