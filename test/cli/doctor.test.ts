/**
 * `agentvisor doctor` on a good setup (a running server, the fake agents,
 * credentials set) and on broken ones: every finding is a line, every FAIL
 * names its fix, any FAIL makes the exit code non-zero, and no credential or
 * token value is ever printed.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Dirs, type RunningServer, TEST_TOKEN, leftovers, makeDirs, startServer } from '../helpers/server';
import { cliEnv, lines, runCli } from './cli';

const ANTHROPIC_KEY = 'sk-ant-doctor-test-secret-0123456789';
const OPENAI_KEY = 'sk-openai-doctor-test-secret-0123456789';

let server: RunningServer;
const broken: Dirs[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
  for (const d of [server.dirs, ...broken]) {
    expect(leftovers(d)).toEqual([]);
    fs.rmSync(d.base, { recursive: true, force: true });
  }
});

/** "STATUS  check  message" lines by check name, and the fix lines that follow them. */
function parse(stdout: string): Record<string, { status: string; message: string; fix?: string }> {
  const out: Record<string, { status: string; message: string; fix?: string }> = {};
  let last: string | undefined;
  for (const line of lines(stdout)) {
    const m = /^(OK|WARN|FAIL)\s+(\S+(?: credentials| dir)?)\s{2,}(.*)$/.exec(line);
    if (m) {
      out[m[2]] = { status: m[1], message: m[3] };
      last = m[2];
    } else if (last && /^\s+fix: /.test(line)) out[last].fix = line.trim().slice('fix: '.length);
  }
  return out;
}

test('a good setup: every check OK (or WARN), exit 0, the running server recognised, no secret printed', async () => {
  const env = cliEnv(server.dirs, {
    AUTH_TOKEN: TEST_TOKEN,
    PORT: new URL(server.url).port,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    OPENAI_API_KEY: OPENAI_KEY,
  });
  const r = await runCli(['doctor'], env, server.dirs.base);
  const checks = parse(r.stdout);
  expect(Object.keys(checks)).toEqual([
    'config',
    'node',
    'better-sqlite3',
    'node-pty',
    'claude',
    'codex',
    'claude credentials',
    'codex credentials',
    'user',
    'sandbox',
    'state dir',
    'token',
    'journal',
    'server',
    'workspace',
    'pm2',
  ]);
  for (const [name, c] of Object.entries(checks)) {
    // pm2 depends on the host (a WARN explains it); everything else is set up right here.
    expect({ name, ...c }).toMatchObject({ name, status: name === 'pm2' ? expect.stringMatching(/^(OK|WARN)$/) : 'OK' });
  }
  expect(r.code).toBe(0);
  expect(checks.claude.message).toMatch(/^claude .*fake-claude\.js\)$/);
  expect(checks['claude credentials'].message).toBe('ANTHROPIC_API_KEY set for the agents (value not shown)');
  expect(checks['state dir'].message).toBe(`STATE_DIR ${server.dirs.stateDir} is writable, mode 0700`);
  expect(checks.sandbox.message).toMatch(/^agents run confined by bubblewrap \(\/\S+\/bwrap\)$/);
  expect(checks.token.message).toMatch(/^AUTH_TOKEN is set \(\d+ characters\)/);
  expect(checks.journal.message).toMatch(/passes integrity_check \(schema v\d+, 0 sessions\)$/);
  expect(checks.server.message).toMatch(new RegExp(`^agentvisor \\S+ \\(pid ${server.proc.pid}\\) serves ${server.url}: up \\S+, no sessions, journal ok`));
  expect(r.stdout).toMatch(/^0 FAIL, \d WARN, \d+ OK$/m);
  for (const secret of [ANTHROPIC_KEY, OPENAI_KEY, TEST_TOKEN]) expect(r.stdout + r.stderr).not.toContain(secret);

  const json = await runCli(['doctor', '--json'], env, server.dirs.base);
  const report = JSON.parse(json.stdout);
  expect(report.ok).toBe(true);
  expect(report.checks).toHaveLength(16);
  expect(report.checks[0]).toEqual({ check: 'config', status: 'OK', message: expect.any(String) });
  console.log(`doctor (good setup): ${r.ms} ms`);
});

test('a missing agent and a STATE_DIR that is a regular file: FAIL lines with the fix, exit 1', async () => {
  const d = makeDirs();
  broken.push(d);
  const stateFile = path.join(d.base, 'not-a-dir');
  fs.writeFileSync(stateFile, 'x');
  const r = await runCli(['doctor'], cliEnv(d, { STATE_DIR: stateFile, CODEX_BIN: '/nonexistent', PORT: '0' }), d.base);
  expect(r.code).toBe(1);
  const checks = parse(r.stdout);
  expect(checks.codex).toEqual({
    status: 'FAIL',
    message: 'CODEX_BIN=/nonexistent is not an executable file',
    fix: 'set CODEX_BIN to the codex executable, or unset it to search PATH',
  });
  expect(checks['state dir']).toEqual({
    status: 'FAIL',
    message: `STATE_DIR ${stateFile} is not a directory`,
    fix: `set STATE_DIR to a directory (or move the file ${stateFile} away)`,
  });
  expect(checks.claude.status).toBe('OK');
  expect(r.stdout).toMatch(/^2 FAIL, /m);
});

test('no bubblewrap on PATH: a WARN under SANDBOX=auto, a FAIL under SANDBOX=bwrap, each with the fix', async () => {
  const d = makeDirs();
  broken.push(d);
  const noBwrap = { PATH: path.join(d.base, 'empty-bin'), PORT: '0' };
  const auto = parse((await runCli(['doctor'], cliEnv(d, noBwrap), d.base)).stdout).sandbox;
  expect(auto).toMatchObject({
    status: 'WARN',
    message: expect.stringMatching(/^agents run UNCONFINED \(SANDBOX=auto\): bwrap \(bubblewrap\) is not on PATH/),
    fix: expect.stringContaining('apt-get install bubblewrap'),
  });
  const r = await runCli(['doctor'], cliEnv(d, { ...noBwrap, SANDBOX: 'bwrap' }), d.base);
  expect(r.code).toBe(1);
  expect(parse(r.stdout).sandbox).toMatchObject({
    status: 'FAIL',
    message: expect.stringMatching(/^SANDBOX=bwrap but agents cannot be confined/),
    fix: expect.stringContaining('apt-get install bubblewrap'),
  });
});

test('a permissive STATE_DIR and token file, a damaged journal, a taken port, a bad variable: each a FAIL with its fix', async () => {
  const d = makeDirs();
  broken.push(d);
  fs.mkdirSync(d.stateDir, { mode: 0o700 });
  fs.chmodSync(d.stateDir, 0o777);
  fs.writeFileSync(path.join(d.stateDir, 'token'), 'a-token-of-forty-characters-0123456789ab\n', { mode: 0o644 });
  fs.chmodSync(path.join(d.stateDir, 'token'), 0o644);
  fs.writeFileSync(path.join(d.stateDir, 'journal.db'), 'this is not a database, it is plain text '.repeat(200));
  const squatter = http.createServer((_req, res) => res.end('not agentvisor'));
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as AddressInfo).port;
  try {
    const r = await runCli(['doctor'], cliEnv(d, { PORT: String(port), KILL_GRACE: 'soon', CHILD_ENV_IS_SANDBOX: '' }), d.base);
    expect(r.code).toBe(1);
    const checks = parse(r.stdout);
    expect(checks.config).toEqual({
      status: 'FAIL',
      message: 'invalid KILL_GRACE (got "soon"): Invalid input: expected number, received NaN',
      fix: 'fix or unset KILL_GRACE (agentvisor serve --help lists every variable); the checks below use its default',
    });
    expect(checks['state dir']).toMatchObject({ status: 'FAIL', message: expect.stringContaining('its mode is 0777'), fix: `chmod 700 ${d.stateDir}` });
    expect(checks.token).toMatchObject({ status: 'FAIL', message: expect.stringContaining('has mode 0644'), fix: expect.stringMatching(/^chmod 600 .*token --rotate/) });
    expect(checks.journal).toMatchObject({ status: 'FAIL', message: expect.stringContaining('cannot be read: file is not a database'), fix: expect.stringContaining('move') });
    expect(checks.server).toEqual({
      status: 'FAIL',
      message: `port ${port} on 127.0.0.1 is in use by another program`,
      fix: `set PORT to a free port, or stop the program holding it (ss -ltnp 'sport = :${port}' names it)`,
    });
    if (process.getuid?.() === 0) {
      expect(checks.user).toMatchObject({ status: 'FAIL', message: expect.stringContaining('without CHILD_ENV_IS_SANDBOX=1'), fix: expect.stringContaining('CHILD_ENV_IS_SANDBOX=1') });
    }
    expect(r.stdout).not.toContain('a-token-of-forty-characters');
    // The doctor reads; it repairs nothing behind the operator's back.
    expect(fs.statSync(d.stateDir).mode & 0o777).toBe(0o777);
    expect(fs.readdirSync(d.stateDir).sort()).toEqual(['journal.db', 'token']);
  } finally {
    squatter.close();
  }
});
