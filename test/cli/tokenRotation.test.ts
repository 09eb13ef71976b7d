/**
 * `agentvisor token --rotate` against a server that keeps its token in
 * STATE_DIR/token: the running server switches at once (the old token gets 401,
 * the new one works), and with the server down the next start uses the new file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Dirs, type RunningServer, call, connect, leftovers, makeDirs, reapLeftovers, startServer } from '../helpers/server';
import { cliEnv, lines, runCli } from './cli';

let dirs: Dirs;
let server: RunningServer | undefined;

const tokenPath = () => path.join(dirs.stateDir, 'token');
const readToken = () => fs.readFileSync(tokenPath(), 'utf8').trim();
// No AUTH_TOKEN anywhere: the server generates STATE_DIR/token and the CLI reads it.
const cli = (args: string[]) => runCli(args, cliEnv(dirs), dirs.base);

async function mcpStatus(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await res.body?.cancel();
  return res.status;
}

async function health(url: string, token: string): Promise<Record<string, unknown>> {
  return (await fetch(`${url}/health`, { headers: { Authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
}

beforeAll(() => {
  dirs = makeDirs();
});

afterAll(async () => {
  await server?.stop();
  reapLeftovers(dirs);
  fs.rmSync(dirs.base, { recursive: true, force: true });
});

test('token --rotate through the running server: the old token gets 401 at once, the new one works', async () => {
  server = await startServer({ dirs, env: { AUTH_TOKEN: '' } });
  const old = readToken();
  expect((await cli(['token'])).stdout).toContain(`Bearer ${old}`);
  expect(await mcpStatus(server.url, old)).toBe(200);

  const r = await cli(['token', '--rotate']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const next = readToken();
  expect(next).not.toBe(old);
  expect(next.length).toBeGreaterThanOrEqual(40);
  expect(fs.statSync(tokenPath()).mode & 0o777).toBe(0o600);
  expect(lines(r.stdout)[0]).toBe('The auth token was replaced and the running server uses it now: clients with the old token are refused until reconfigured.');
  expect(r.stdout).toContain(`"Authorization": "Bearer ${next}"`);
  expect(r.stdout).not.toContain(old);

  expect(await mcpStatus(server.url, old)).toBe(401);
  expect(await health(server.url, old)).toEqual({ status: 'ok' });
  expect(await mcpStatus(server.url, next)).toBe(200);
  expect(await health(server.url, next)).toMatchObject({ status: 'ok', version: expect.any(String) });
  const client = await connect({ url: server.url, token: next }, 'http');
  expect((await call(client, 'session_list')).sessions).toEqual([]);
  await client.close();
  // Neither token reaches the server's log.
  const log = fs.readFileSync(path.join(dirs.stateDir, 'logs', 'agentvisor.log'), 'utf8');
  expect(log).toContain('token rotated');
  expect(log).not.toContain(old);
  expect(log).not.toContain(next);
  console.log(`token --rotate (server up): ${r.ms} ms`);
});

test('stop (without --kill-sessions) waits for the exit; token --rotate with the server down is used by the next start', async () => {
  const pid = server!.proc.pid!;
  const stop = await cli(['stop']);
  expect(stop).toMatchObject({ code: 0, stdout: `stopped agentvisor (pid ${pid}); running sessions keep running and re-attach at the next start\n` });
  expect(server!.proc.exitCode ?? (await server!.stop())).toBe(0);
  console.log(`stop: ${stop.ms} ms`);

  const before = readToken();
  const r = await cli(['token', '--rotate']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/the server is not running; the configuration assumes it will listen on http:\/\/127\.0\.0\.1:3500/);
  const next = readToken();
  expect(next).not.toBe(before);
  expect(r.stdout).toContain(`Bearer ${next}`);

  server = await startServer({ dirs, env: { AUTH_TOKEN: '' } });
  expect(await mcpStatus(server.url, before)).toBe(401);
  expect(await mcpStatus(server.url, next)).toBe(200);
  expect((await cli(['stop'])).code).toBe(0);
  await server.stop();
  server = undefined;
  expect(leftovers(dirs)).toEqual([]);
});
