/**
 * The commands while the server is down but a session's worker lives on:
 * `sessions` reads the journal read-only, `logs --follow` polls the output
 * files and stops when the worker records the end; and a follow through the
 * server carries on from disk when the server stops under it.
 */
import fs from 'node:fs';
import { type RunningServer, TEST_TOKEN, call, connect, leftovers, reapLeftovers, startServer, until } from '../helpers/server';
import { cliEnv, lines, runCli, waitEnded } from './cli';

let server: RunningServer;

beforeEach(async () => {
  server = await startServer();
});

afterEach(async () => {
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

const cli = (args: string[], onStdout?: (soFar: string) => void) => runCli(args, cliEnv(server.dirs, { AUTH_TOKEN: TEST_TOKEN }), server.dirs.base, { onStdout });
const tickNumbers = (stdout: string) =>
  lines(stdout)
    .filter((l) => l.startsWith('tick '))
    .map((l) => Number(l.split(' ')[1]));

test('server stopped, worker alive: sessions from the journal, logs --follow from disk until the session ends', async () => {
  const client = await connect(server);
  const ended = (await call(client, 'session_start', { agent: 'codex', cwd: 'a', task: 'lines 3' })).sessionId;
  await waitEnded(client, ended);
  const ticking = (await call(client, 'session_start', { agent: 'codex', cwd: 'b', task: 'tick 20 100' })).sessionId;
  await client.close();
  expect(await server.stop()).toBe(0); // SIGTERM: the workers stay

  const list = await cli(['sessions']);
  expect(list.code).toBe(0);
  expect(lines(list.stdout)).toEqual([expect.stringMatching(/^ID\s+AGENT/), expect.stringMatching(new RegExp(`^${ticking.slice(0, 8)}\\s+codex\\s+running\\s`))]);

  const old = await cli(['logs', ended]);
  expect(lines(old.stdout).slice(-3)).toEqual(['line 0', 'line 1', 'line 2']);

  const follow = await cli(['logs', ticking.slice(0, 8), '-f']);
  expect(follow.code).toBe(0);
  expect(tickNumbers(follow.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(follow.stderr).toMatch(new RegExp(`session ${ticking.slice(0, 8)} ended: exited, exit 0`));
  console.log(`logs --follow from disk (2 s session): ${follow.ms} ms`);

  // Nobody journalled the end: the worker's final record says it.
  const after = await cli(['sessions', '--all', '--json']);
  expect(JSON.parse(after.stdout).find((s: any) => s.sessionId === ticking)).toMatchObject({ status: 'exited', statusFrom: 'final record', exitCode: 0 });
  const table = await cli(['sessions', '--all']);
  expect(table.stderr).toMatch(/the server is not running/);

  // The worker exits by itself once its session has ended with no supervisor attached.
  await until(() => leftovers(server.dirs).length === 0, 10_000, 'the worker to exit');
});

test('logs --follow through the server carries on from disk when the server stops, without losing or repeating a line', async () => {
  const client = await connect(server);
  const s = (await call(client, 'session_start', { agent: 'codex', cwd: 'c', task: 'tick 25 100' })).sessionId;
  await client.close();
  let printing!: () => void;
  const printed = new Promise<void>((resolve) => (printing = resolve));
  // Stopped once the follow is under way through the server, mid-session.
  const follow = cli(['logs', s, '--follow'], (soFar) => soFar.includes('tick 5 ') && printing());
  await printed;
  expect(await server.stop()).toBe(0);
  const r = await follow;
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/the server stopped; reading on from the output files on disk/);
  expect(tickNumbers(r.stdout)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  await until(() => leftovers(server.dirs).length === 0, 10_000, 'the worker to exit');
});
