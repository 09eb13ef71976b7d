/**
 * session_start options (model, mode, waitMs, env), interrupt, session_diff and
 * capability detection, where only agentvisor's side matters: fake agents that
 * report the argv and environment they were given.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect, reapLeftovers, startServer, until } from '../helpers/server';

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer({ env: { KILL_GRACE: '1000' } });
  client = await connect(server);
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

async function ended(sessionId: string) {
  let page: any;
  await until(
    async () => {
      page = await call(client, 'session_wait', { sessionId, since: 0, timeoutMs: 2_000, limit: 1000 });
      return !['running', 'killing'].includes(page.status);
    },
    15_000,
    'session end',
  );
  return (await call(client, 'session_output', { sessionId, since: 0, limit: 1000 })) as any;
}

const jsonLine = (lines: string[]) => JSON.parse(lines.find((l) => l.startsWith('[') || l.startsWith('{'))!);

test("model and mode become the agents' own flags, as argv elements", async () => {
  const c = await call(client, 'session_start', { agent: 'codex', cwd: 'opts', task: 'args', model: 'gpt-5.1-codex', mode: 'plan' });
  const cArgs: string[] = jsonLine((await ended(c.sessionId)).lines.slice(4));
  expect(cArgs).toEqual([
    '--sandbox',
    'read-only',
    '--ask-for-approval',
    'never',
    '--model',
    'gpt-5.1-codex',
    '--disable',
    'unbounded_connection_retries',
    'exec',
    '--skip-git-repo-check',
    '--',
    'args',
  ]);
  const e = await call(client, 'session_start', { agent: 'codex', cwd: 'opts', task: 'args', mode: 'edit' });
  expect(jsonLine((await ended(e.sessionId)).lines.slice(4))).toEqual(expect.arrayContaining(['--sandbox', 'workspace-write']));
  const f = await call(client, 'session_start', { agent: 'codex', cwd: 'opts', task: 'args' });
  expect(jsonLine((await ended(f.sessionId)).lines.slice(4))[0]).toBe('--yolo');

  const k = await call(client, 'session_start', { agent: 'claude-code', cwd: 'opts', task: 'args', model: 'claude-sonnet-4-5[1m]', mode: 'edit' });
  const out = await ended(k.sessionId);
  const kArgs: string[] = JSON.parse(out.lines.find((l: string) => l.startsWith('["--print"'))!);
  expect(kArgs).toEqual(expect.arrayContaining(['--permission-mode', 'acceptEdits', '--model', 'claude-sonnet-4-5[1m]']));
  expect(kArgs).not.toContain('--dangerously-skip-permissions');
});

test('a model with anything but the safe characters is refused and runs nothing', async () => {
  const canary = path.join(server.dirs.base, 'pwned');
  for (const model of ['x; touch ' + canary, '$(touch ' + canary + ')', '`touch ' + canary + '`', 'a b', 'x\ny', 'x'.repeat(101), '']) {
    expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'opts', task: 't', model })).toMatch(/model/);
  }
  expect(fs.existsSync(canary)).toBe(false);
});

test('waitMs blocks until the session ends and returns the final answer', async () => {
  const t0 = Date.now();
  const k = await call(client, 'session_start', { agent: 'claude-code', cwd: 'ask', task: 'slow 400 what is it', waitMs: 10_000 });
  expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  expect(k.status).toBe('exited');
  expect(k.completedSuccessfully).toBe(true);
  expect(k.finalAnswer).toBe('echo: slow 400 what is it');
  const c = await call(client, 'session_start', { agent: 'codex', cwd: 'ask', task: 'answer', waitMs: 10_000 });
  expect(c.status).toBe('exited');
  expect(c.finalAnswer).toBe('The answer is 42.\nSecond line of it.');
  const silent = await call(client, 'session_start', { agent: 'codex', cwd: 'ask', task: 'silent', waitMs: 300 });
  expect(silent.timedOut).toBe(true);
  expect(silent.status).toBe('running');
  await call(client, 'session_kill', { sessionId: silent.sessionId });
});

test('env adds validated variables; dangerous names are refused', async () => {
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'env', task: 'env', env: { APP_FOO_BAR: 'baz qux', APP_EMPTY: '' } });
  const env = jsonLine((await ended(s.sessionId)).lines.slice(4));
  expect(env.APP_FOO_BAR).toBe('baz qux');
  expect(env.APP_EMPTY).toBe('');
  expect(env.AUTH_TOKEN).toBeUndefined();
  for (const bad of [
    { PATH: '/tmp' },
    { HOME: '/' },
    { AUTH_TOKEN: 'x' },
    { LD_PRELOAD: '/x.so' },
    { NODE_OPTIONS: '--require x' },
    { lower: 'x' },
    { '1ABC': 'x' },
    { 'A-B': 'x' },
    { BIG: 'x'.repeat(5000) },
  ]) {
    expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'env', task: 'env', env: bad })).toMatch(/env/);
  }
});

test('interrupt stops the current turn but keeps the session; the next message continues it', async () => {
  const k = await call(client, 'session_start', { agent: 'claude-code', cwd: 'intr', task: 'slow 60000 long job' });
  const r = await call(client, 'session_send', { sessionId: k.sessionId, interrupt: true });
  expect(r.interrupted).toBe(true);
  const out = await ended(k.sessionId);
  expect(out.lines).toContain('[agentvisor] interrupting the current turn');
  const info = (await call(client, 'session_list')).sessions.find((s: any) => s.sessionId === k.sessionId);
  expect(info.endReason).toBe('interrupted');
  const next = await call(client, 'session_send', { sessionId: k.sessionId, message: 'new direction' });
  expect(next.resumed).toBe(true);
  expect((await ended(k.sessionId)).lines).toContain('echo: new direction');

  const c = await call(client, 'session_start', { agent: 'codex', cwd: 'intr', task: 'silent' });
  const redirect = await call(client, 'session_send', { sessionId: c.sessionId, interrupt: true, message: 'instead do this' });
  expect(redirect).toMatchObject({ interrupted: true });
  const cout = await ended(c.sessionId);
  expect(cout.lines).toContain('task: instead do this');
  expect(await callError(client, 'session_send', { sessionId: c.sessionId })).toMatch(/message is required/);
});

test('session_diff shows what the agent changed since start, new files included', async () => {
  const repo = path.join(server.dirs.workspace, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  git('init', '-q');
  fs.writeFileSync(path.join(repo, 'kept.txt'), 'old\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  // A change that predates the session must not show up in its diff.
  fs.writeFileSync(path.join(repo, 'before.txt'), 'already here\n');
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'repo', task: 'write new.txt hello' });
  await ended(s.sessionId);
  fs.writeFileSync(path.join(repo, 'kept.txt'), 'new\n'); // as if the agent edited it too
  const d = await call(client, 'session_diff', { sessionId: s.sessionId });
  expect(d.files).toEqual(
    expect.arrayContaining([
      { status: 'A', path: 'new.txt' },
      { status: 'M', path: 'kept.txt' },
    ]),
  );
  expect(d.files.map((f: any) => f.path)).not.toContain('before.txt');
  expect(d.lines).toEqual(expect.arrayContaining(['+hello', '-old', '+new']));
  const page = await call(client, 'session_diff', { sessionId: s.sessionId, since: 0, limit: 3 });
  expect(page.lines).toHaveLength(3);
  expect(page.hasMore).toBe(true);
  // The user's own index is untouched by the snapshot.
  expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo }).toString()).toMatch(/\?\? before\.txt/);

  const plain = await call(client, 'session_start', { agent: 'codex', cwd: 'not-a-repo', task: 'lines 1' });
  expect(await callError(client, 'session_diff', { sessionId: plain.sessionId })).toMatch(/not inside a git repository/);
});

test("capabilities: each agent's binary, version and modes are detected and listed", async () => {
  let agents: any[] = [];
  await until(
    async () => {
      agents = (await call(client, 'session_list')).agents;
      return agents.length === 2;
    },
    10_000,
    'detection',
  );
  const codex = agents.find((a) => a.agent === 'codex');
  // The fake's --help lists no app-server command: its sessions will need the exec fallback.
  expect(codex).toMatchObject({ found: true, version: '0.0.0-fake', modes: ['full', 'edit', 'plan'], supportsModel: true, supportsAppServer: false });
  const claude = agents.find((a) => a.agent === 'claude-code');
  expect(claude).toMatchObject({ found: true, version: '0.0.0-fake', supportsResume: true });
  const health = (await (await fetch(`${server.url}/health`, { headers: { Authorization: `Bearer ${server.token}` } })).json()) as any;
  expect(health.agents.map((a: any) => a.agent).sort()).toEqual(['claude-code', 'codex']);
});
