/**
 * `agentvisor stdio` (issue 19 item 5b): the SDK's own stdio client and the real `claude` CLI with
 * a stdio entry in --mcp-config launch `node dist/src/cli.js stdio`, which relays to the running
 * supervisor (or starts one). Sessions belong to the supervisor: they survive the stdio process.
 * The sessions run the fake agents (test/fixtures).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, ROOT, TEST_TOKEN, call, connect, leftovers, makeDirs, reapLeftovers, startServer, until } from '../helpers/server';
import { cliEnv } from '../cli/cli';
import { type ClientRig, runClient, startClientRig } from '../support/mcpClients';
import { ModelServer, claudeEnv } from '../support/modelServer';

const CLAUDE = path.join(ROOT, 'node_modules/.bin/claude');
/** A stdio process whose client has gone ends at once; a loaded box may take a few seconds. */
const STDIO_EXIT_MS = 10_000;

let rig: ClientRig;
beforeAll(async () => {
  rig = await startClientRig();
});
afterAll(async () => {
  await rig?.close();
});
/** Clients a failed test left open (a stdio process must not outlive its test). */
const open: Client[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close().catch(() => undefined);
});

function newClient(): Client {
  const c = new Client({ name: 'stdio-test', version: '1' });
  open.push(c);
  return c;
}

/** The stdio command as a client's entry would run it, with the server's STATE_DIR and token. */
function stdioTransport(env: Record<string, string>, cwd: string, stderr: string[]): StdioClientTransport {
  const t = new StdioClientTransport({ command: process.execPath, args: [CLI, 'stdio'], env, cwd, stderr: 'pipe' });
  t.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  return t;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the SDK stdio client lists the tools and starts a session that keeps running after the stdio process has ended', async () => {
  const stderr: string[] = [];
  const transport = stdioTransport(cliEnv(rig.server.dirs, { AUTH_TOKEN: TEST_TOKEN }), rig.dirs.base, stderr);
  const client = newClient();
  await client.connect(transport);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['session_start', 'session_wait', 'session_list', 'read_file']));
  const started = (await client.callTool({ name: 'session_start', arguments: { agent: 'codex', cwd: 'stdio-a', task: 'tick 1000 50' } })) as any;
  expect(started.isError).toBeFalsy();
  const sessionId = started.structuredContent.sessionId;
  // A waiting call relayed both ways (progress and result over the server's stream).
  const page = (await client.callTool({ name: 'session_wait', arguments: { sessionId, since: 0, timeoutMs: 5_000 } })) as any;
  expect(page.structuredContent.lines).toContain('OpenAI Codex (fake)');

  const pid = transport.pid!;
  await client.close();
  await until(() => !pidAlive(pid), STDIO_EXIT_MS, 'the stdio process to exit');
  expect(stderr.join('')).toContain('sessions keep running in the server');
  expect(stderr.join('')).not.toContain(TEST_TOKEN);

  const sdk = await connect(rig.server);
  try {
    const after = await call(sdk, 'session_wait', { sessionId, since: page.structuredContent.nextOffset, timeoutMs: 5_000 });
    expect(after.status).toBe('running');
    expect(after.lines.length).toBeGreaterThan(0);
    await call(sdk, 'session_kill', { sessionId });
  } finally {
    await sdk.close();
  }
});

test('with no server running, stdio starts one in the background, which outlives it', async () => {
  const dirs = makeDirs('agentvisor-stdio-');
  let serverPid: number | undefined;
  let left: number[];
  try {
    const stderr: string[] = [];
    const transport = stdioTransport(cliEnv(dirs, { PORT: '0', LOG_LEVEL: 'debug' }), dirs.base, stderr);
    const client = newClient();
    await client.connect(transport);
    expect(stderr.join('')).toContain('starting agentvisor serve in the background');
    const listed = (await client.callTool({ name: 'session_list', arguments: {} })) as any;
    expect(listed.structuredContent.sessions).toEqual([]);
    const info = JSON.parse(fs.readFileSync(path.join(dirs.stateDir, 'server.json'), 'utf8'));
    serverPid = info.pid;
    const stdioPid = transport.pid!;
    await client.close();
    await until(() => !pidAlive(stdioPid), STDIO_EXIT_MS, 'the stdio process to exit');
    expect(pidAlive(serverPid!)).toBe(true);
    // A second stdio finds that server rather than starting another.
    const again: string[] = [];
    const t2 = stdioTransport(cliEnv(dirs, { PORT: '0' }), dirs.base, again);
    const c2 = newClient();
    await c2.connect(t2);
    await c2.listTools();
    await c2.close();
    expect(again.join('')).not.toContain('starting agentvisor serve');
    expect(JSON.parse(fs.readFileSync(path.join(dirs.stateDir, 'server.json'), 'utf8')).pid).toBe(serverPid);
  } finally {
    for (const c of open.splice(0)) await c.close().catch(() => undefined);
    if (serverPid && pidAlive(serverPid)) process.kill(serverPid, 'SIGTERM');
    await until(() => leftovers(dirs).length === 0, 10_000, 'the started server to stop').catch(() => undefined);
    left = reapLeftovers(dirs);
    fs.rmSync(dirs.base, { recursive: true, force: true });
  }
  expect(left).toEqual([]);
});

test('the server restarts under a connected stdio client: the next call reconnects, and the session it started is still there', async () => {
  const dirs = makeDirs('agentvisor-stdio-restart-');
  let server = await startServer({ dirs });
  let left: number[];
  try {
    const stderr: string[] = [];
    const client = newClient();
    await client.connect(stdioTransport(cliEnv(dirs, { AUTH_TOKEN: TEST_TOKEN }), dirs.base, stderr));
    const started = (await client.callTool({ name: 'session_start', arguments: { agent: 'codex', cwd: 'r', task: 'tick 1000 50' } })) as any;
    const sessionId = started.structuredContent.sessionId;
    await server.stop(); // sessions keep running; the stdio process keeps its client
    server = await startServer({ dirs });
    const listed = (await client.callTool({ name: 'session_list', arguments: {} })) as any;
    expect(listed.isError).toBeFalsy();
    expect(listed.structuredContent.sessions.find((x: any) => x.sessionId === sessionId)).toMatchObject({ status: 'running' });
    expect(stderr.join('')).toContain('stdio: reconnected to the server');
    const killed = (await client.callTool({ name: 'session_kill', arguments: { sessionId } })) as any;
    expect(killed.isError).toBeFalsy();
    await client.close();
  } finally {
    for (const c of open.splice(0)) await c.close().catch(() => undefined);
    await server.stop();
    await until(() => leftovers(dirs).length === 0, 10_000, 'no process left').catch(() => undefined);
    left = reapLeftovers(dirs);
    fs.rmSync(dirs.base, { recursive: true, force: true });
  }
  // Not in finally: a failure of the test itself is reported, not hidden behind this one.
  expect(left).toEqual([]);
});

test('claude --mcp-config with a stdio entry: the model calls agentvisor tools through it', async () => {
  const model = await ModelServer.start([
    { text: 'Starting one.', toolCalls: [{ name: 'mcp__agentvisor__session_start', input: { agent: 'codex', cwd: 'from-claude-stdio', task: 'lines 3' } }] },
    { text: 'Started it.' },
  ]);
  try {
    const dir = rig.scratch('claude-stdio');
    const config = path.join(dir, 'mcp.json');
    const entry = { type: 'stdio', command: process.execPath, args: [CLI, 'stdio'], env: cliEnv(rig.server.dirs, { AUTH_TOKEN: TEST_TOKEN }) };
    fs.writeFileSync(config, JSON.stringify({ mcpServers: { agentvisor: entry } }));
    const args = ['-p', 'Use agentvisor (stdio)', '--mcp-config', config, '--strict-mcp-config', '--output-format', 'stream-json', '--verbose', '--allowedTools', 'mcp__agentvisor__session_start'];
    const run = await runClient(CLAUDE, args, { cwd: dir, env: claudeEnv(model.url, rig.scratch('claude-stdio-home')), timeoutMs: 45_000 });
    expect({ code: run.code, timedOut: run.timedOut }).toEqual({ code: 0, timedOut: false });
    const events = run.stdout
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l));
    const init = events.find((e) => e.type === 'system' && e.subtype === 'init');
    expect(init.mcp_servers).toEqual([expect.objectContaining({ name: 'agentvisor', status: 'connected' })]);
    expect(events.find((e) => e.type === 'result')).toMatchObject({ subtype: 'success', result: 'Started it.' });
    // agentvisor's answer reached the model: the session id in the tool_result, and that session exists.
    expect(model.requests).toHaveLength(2);
    const last = model.requests[1].body.messages.at(-1);
    const block = last.content.find((b: any) => b.type === 'tool_result');
    expect(block.is_error).toBeFalsy();
    const text = typeof block.content === 'string' ? block.content : block.content.map((c: any) => c.text ?? '').join('');
    const started = JSON.parse(text);
    const sdk = await connect(rig.server);
    try {
      const page = await call(sdk, 'session_wait', { sessionId: started.sessionId, since: 0, timeoutMs: 5_000 });
      expect(page.lines).toEqual(expect.arrayContaining(['line 0', 'line 2']));
    } finally {
      await sdk.close();
    }
  } finally {
    await model.close();
  }
});
