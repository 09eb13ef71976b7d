/**
 * The supervisor's last-resort handlers, in a real Node process: an async
 * failure in a handler (an unhandled rejection) or an environment error thrown
 * from a callback is logged and the process keeps serving; a bug of unknown
 * reach still exits (for pm2 to restart). The same script without the handlers
 * is the control: Node ends it on the first unhandled rejection.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/server';

const script = (install: boolean, last: string) => `
const { createLogger } = require(${JSON.stringify(path.join(ROOT, 'dist/src/shared/logger.js'))});
const { installLastResort } = require(${JSON.stringify(path.join(ROOT, 'dist/src/supervisor/lastResort.js'))});
const log = createLogger({ level: 'info', stderr: true, secrets: [] });
if (${install}) installLastResort(log);
const handler = async () => { await null; throw new Error('async boom in a handler'); };
setTimeout(() => void handler(), 1);
setTimeout(() => { const e = new Error('ENOSPC: no space left on device, write'); e.code = 'ENOSPC'; throw e; }, 20);
setTimeout(() => { ${last} }, 40);
`;

function run(install: boolean, last: string) {
  return spawnSync(process.execPath, ['-e', script(install, last)], { encoding: 'utf8', timeout: 20_000 });
}

test('an async failure in a handler and an environment error do not exit the supervisor process', () => {
  const r = run(true, "process.stdout.write('still serving'); process.exit(0);");
  expect(r.stdout).toBe('still serving');
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('unhandled rejection; still serving');
  expect(r.stderr).toContain('async boom in a handler');
  expect(r.stderr).toContain('uncaught error from the environment; still serving');
});

test('a bug of unknown reach still exits, logged, so the process manager restarts it', () => {
  const r = run(true, 'null.x;');
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('uncaught error; exiting so the process manager restarts agentvisor');
  expect(r.stderr).toContain('TypeError');
});

test('control: without the handlers, Node ends the process on the async failure', () => {
  const r = run(false, "process.stdout.write('still serving'); process.exit(0);");
  expect(r.stdout).toBe('');
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('async boom in a handler');
});
