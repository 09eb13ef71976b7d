/**
 * `agentvisor serve` in the foreground writes readable log lines to the
 * operator's terminal. Log fields carry text from clients and agents (a cwd,
 * an error summary); none of their control characters may reach the
 * terminal. Run for real under a PTY, where stderr is a TTY and the readable
 * format is used, with the compiled logger.
 */
import path from 'node:path';
import { ROOT } from '../helpers/server';

const pty: typeof import('node-pty') = require('node-pty');

test('readable log lines on a terminal carry no control character from their fields', async () => {
  const logger = path.join(ROOT, 'dist/src/shared/logger.js');
  const script = `
    const { createLogger } = require(${JSON.stringify(logger)});
    const log = createLogger({ level: 'info', stderr: true, secrets: [] });
    log.info('worker started \\x1b]0;title\\x07here', { cwd: '/ws/\\x1b]52;c;cHduZWQ=\\x07x\\x9b2J\\x7fy', errorSummary: '\\x1bc\\x00reset' });
    log.on('finish', () => process.exit(0));
    log.end();
  `;
  const term = pty.spawn(process.execPath, ['-e', script], { cols: 400, rows: 24, cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  let output = '';
  term.onData((d) => (output += d));
  const code = await new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
  expect(code).toBe(0);
  // The PTY turns "\n" into "\r\n": those two are the terminal's, not the log's.
  const lines = output.split('\r\n').filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  // The message sanitised; the fields as JSON with every control escaped (nothing lost).
  expect(lines[0]).toMatch(/ info worker started here /);
  expect(lines[0].endsWith(String.raw` {"cwd":"/ws/\u001b]52;c;cHduZWQ=\u0007x\u009b2J\u007fy","errorSummary":"\u001bc\u0000reset"}`)).toBe(true);

  expect(lines.filter((l) => /[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(l))).toEqual([]);
}, 30_000);
