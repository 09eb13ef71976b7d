/**
 * The command line's own surface: --help everywhere, `serve --help` listing
 * every variable with its default, and usage mistakes as one line with exit 2.
 */
import fs from 'node:fs';
import { CONFIG_VARS } from '../../src/supervisor/config';
import { makeDirs } from '../helpers/server';
import { cliEnv, lines, runCli } from './cli';

const dirs = makeDirs();
const cli = (args: string[]) => runCli(args, cliEnv(dirs), dirs.base);

afterAll(() => fs.rmSync(dirs.base, { recursive: true, force: true }));

const COMMANDS = ['serve', 'sessions', 'show', 'logs', 'kill', 'stop', 'worktrees', 'doctor', 'token', 'ui'];

test('agentvisor --help lists every command; each command has its own --help', async () => {
  const top = await cli(['--help']);
  expect(top.code).toBe(0);
  for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\s+\\S`, 'm'));
  const helps = await Promise.all(COMMANDS.map((c) => cli([c, '--help'])));
  helps.forEach((r, i) => {
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.startsWith(`usage: agentvisor ${COMMANDS[i]}`)).toBe(true);
  });
});

test('serve --help lists every configuration variable with its default', async () => {
  const r = await cli(['serve', '--help']);
  expect(r.code).toBe(0);
  for (const [name, v] of Object.entries(CONFIG_VARS)) {
    const parsed = (v.schema as any).safeParse(undefined);
    const def = parsed.success && parsed.data !== undefined ? String(parsed.data) : '-';
    expect(r.stdout).toMatch(new RegExp(`^${name}\\s+${def.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\S`, 'm'));
  }
  expect(r.stdout).toMatch(/^PORT\s+3500\s+TCP port/m);
  expect(r.stdout).toMatch(/^KILL_GRACE\s+5000\s/m);
});

test('usage mistakes are one line on stderr and exit 2', async () => {
  const cases: Array<[string[], string]> = [
    [['frobnicate'], 'agentvisor: unknown command "frobnicate" (agentvisor --help lists the commands)'],
    [['sessions', '--bogus'], 'agentvisor: sessions: unknown option --bogus (see agentvisor sessions --help)'],
    [['logs'], 'agentvisor: logs: missing argument (see agentvisor logs --help)'],
    [['show', 'a', 'b'], 'agentvisor: show: unexpected argument "b" (see agentvisor show --help)'],
    [['logs', 'abc', '--since', 'x'], 'agentvisor: logs: --since takes a whole number ≥ 0 (got "x")'],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    expect({ args, code: r.code, stdout: r.stdout, stderr: lines(r.stderr) }).toEqual({ args, code: 2, stdout: '', stderr: [message] });
  }
});

test('commands that read the journal say plainly when there is none', async () => {
  const r = await cli(['sessions']);
  expect(r.code).toBe(1);
  expect(lines(r.stderr)).toEqual([`agentvisor: sessions: no journal at ${dirs.stateDir}/journal.db: the server has not run with this STATE_DIR yet (set STATE_DIR to the server's)`]);
});
