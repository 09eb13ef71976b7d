/**
 * The MCP Inspector's command-line mode (`mcp-inspector --cli`, @modelcontextprotocol/inspector
 * 2.12.0), a client agentvisor did not write, against agentvisor over both transports with the
 * bearer header: tools/list and tools/call (session_list, session_start of the fake agents,
 * session_output), asserting on its `--format json` output.
 */
import path from 'node:path';
import { ROOT, TEST_TOKEN } from '../helpers/server';
import { type ClientRig, type ClientRun, runClient, startClientRig } from '../support/mcpClients';
import { TOOL_NAMES } from '../support/toolNames';

const INSPECTOR = path.join(ROOT, 'node_modules/.bin/mcp-inspector');
const TOOLS = TOOL_NAMES;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Transport = 'sse' | 'http';

let rig: ClientRig;
let home: string;

beforeAll(async () => {
  rig = await startClientRig();
  // The Inspector keeps a catalog under ~/.mcp-inspector: a scratch HOME keeps the host's untouched.
  home = rig.scratch('inspector-home');
});

afterAll(async () => {
  await rig?.close();
});

function endpoint(t: Transport): string {
  return `${rig.server.url}${t === 'sse' ? '/sse' : '/mcp'}`;
}

/** `mcp-inspector --cli <url> --transport t --header "Authorization: Bearer …" --format json …rest` */
function inspector(t: Transport, rest: string[], token = TEST_TOKEN): Promise<ClientRun> {
  // The target URL goes first: --tool-arg and --header are variadic and would swallow it.
  const args = ['--cli', endpoint(t), '--transport', t, '--header', `Authorization: Bearer ${token}`, '--format', 'json', ...rest];
  return runClient(INSPECTOR, args, {
    cwd: home,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1' },
    timeoutMs: 30_000,
  });
}

/** The JSON the Inspector printed; fails with its stderr if it did not succeed. */
function resultOf(run: ClientRun): any {
  if (run.code !== 0) throw new Error(`inspector exited ${run.code} (${run.signal}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  const out = JSON.parse(run.stdout);
  expect(out.error).toBeUndefined();
  return out.result;
}

/** The text content of a tool result, parsed: agentvisor sends the same object as text and as structuredContent. */
function textJson(result: any): any {
  expect(result.content[0].type).toBe('text');
  return JSON.parse(result.content[0].text);
}

describe.each<Transport>(['sse', 'http'])('MCP Inspector CLI over %s', (t) => {
  test('tools/list: every agentvisor tool with its schemas; no error-severity schema portability problems (--strict)', async () => {
    const run = await inspector(t, ['--method', 'tools/list', '--strict']);
    const { tools } = resultOf(run);
    expect(tools.map((x: any) => x.name).sort()).toEqual(TOOLS);
    const start = tools.find((x: any) => x.name === 'session_start');
    expect(start.inputSchema.required).toEqual(expect.arrayContaining(['agent', 'cwd', 'task']));
    expect(start.outputSchema.type).toBe('object');
    expect(start.annotations).toMatchObject({ openWorldHint: true });
    // --strict exits 6 when a schema has an error-severity portability problem (warnings are allowed).
    expect(run.code).toBe(0);
  });

  test('tools/call session_start (fake codex), then session_output and session_list show that session', async () => {
    const cwd = `inspector-${t}`;
    const started = resultOf(await inspector(t, ['--method', 'tools/call', '--tool-name', 'session_start', '--tool-arg', 'agent=codex', `cwd=${cwd}`, 'task=lines 3']));
    expect(started.isError).toBeFalsy();
    const info = started.structuredContent;
    expect(textJson(started)).toEqual(info);
    expect(info.sessionId).toMatch(UUID);
    expect(info).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });
    // initialOutput is whatever the agent printed first (at least its header).
    expect(info.initialOutput.lines[0]).toBe('OpenAI Codex (fake)');

    // A second Inspector process (so a second MCP connection) pages the session's output from 0;
    // `since=0` reaches the tool as the number 0 because the Inspector coerces by the input schema.
    const page = resultOf(await inspector(t, ['--method', 'tools/call', '--tool-name', 'session_output', '--tool-arg', `sessionId=${info.sessionId}`, 'since=0'])).structuredContent;
    expect(page).toMatchObject({ sessionId: info.sessionId, offset: 0 });
    expect(page.lines).toEqual(expect.arrayContaining(['line 0', 'line 1', 'line 2']));

    const list = resultOf(await inspector(t, ['--method', 'tools/call', '--tool-name', 'session_list']));
    expect(list.isError).toBeFalsy();
    const { sessions, agents } = list.structuredContent;
    expect(textJson(list)).toEqual(list.structuredContent);
    expect(sessions.find((s: any) => s.sessionId === info.sessionId)).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });
    expect(agents.map((a: any) => [a.agent, a.found, path.basename(a.path)])).toEqual([
      ['claude-code', true, 'fake-claude.js'],
      ['codex', true, 'fake-codex.js'],
    ]);
  });

  test('tools/call session_start of the fake Claude Code with waitMs returns its final answer', async () => {
    const res = resultOf(
      await inspector(t, [
        '--method',
        'tools/call',
        '--tool-name',
        'session_start',
        '--tool-arg',
        'agent=claude-code',
        `cwd=inspector-claude-${t}`,
        `task=hello from the inspector over ${t}`,
        'waitMs=20000',
      ]),
    );
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toMatchObject({
      agent: 'claude-code',
      status: 'exited',
      completedSuccessfully: true,
      finalAnswer: `echo: hello from the inspector over ${t}`,
    });
  });

  test('a wrong bearer token is refused: no result, a non-zero exit', async () => {
    const run = await inspector(t, ['--method', 'tools/list'], 'not-the-token-0123456789abcdef');
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toContain('session_start');
    // The Inspector reads the 401 as "authorization needed" and, without a TTY, gives up.
    expect(run.stderr).toMatch(/auth/i);
  });
});
