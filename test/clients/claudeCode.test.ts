/**
 * Claude Code (the real `claude` CLI, node_modules/.bin/claude) as an MCP client of agentvisor,
 * over SSE and over Streamable HTTP: `claude -p --mcp-config <file>` with the bearer header, its
 * "model" the scripted local ModelServer, which calls `mcp__agentvisor__session_list` and
 * `mcp__agentvisor__session_start`. What agentvisor answered is read back from the tool_result
 * blocks Claude Code sent the model in its follow-up requests. The sessions agentvisor starts run
 * the fake agents (test/fixtures).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ROOT, TEST_TOKEN, call, connect } from '../helpers/server';
import { type ClientRig, runClient, startClientRig } from '../support/mcpClients';
import { ModelServer, type ScriptTurn, claudeEnv } from '../support/modelServer';
import { TOOL_NAMES } from '../support/toolNames';

const CLAUDE = path.join(ROOT, 'node_modules/.bin/claude');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const AGENTVISOR_TOOLS = TOOL_NAMES.map((t) => `mcp__agentvisor__${t}`);

type Transport = 'sse' | 'http';

let rig: ClientRig;
let sdk: Client;
const models: ModelServer[] = [];

beforeAll(async () => {
  rig = await startClientRig();
  sdk = await connect(rig.server, 'http');
});

afterEach(async () => {
  for (const m of models.splice(0)) await m.close();
});

afterAll(async () => {
  await sdk?.close().catch(() => undefined);
  await rig?.close();
});

/** The --mcp-config file naming agentvisor over `t`, as README's JSON client configuration shows it. */
function mcpConfig(dir: string, t: Transport, token = TEST_TOKEN): string {
  const file = path.join(dir, `mcp-${t}.json`);
  const url = `${rig.server.url}${t === 'sse' ? '/sse' : '/mcp'}`;
  fs.writeFileSync(file, JSON.stringify({ mcpServers: { agentvisor: { type: t, url, headers: { Authorization: `Bearer ${token}` } } } }));
  return file;
}

/** `claude -p` against a fresh ModelServer running `script`; returns its stream-json events and the server. */
async function runClaude(t: Transport, name: string, script: ScriptTurn[], opts: { token?: string; allowedTools?: string[] } = {}) {
  const model = await ModelServer.start(script);
  models.push(model);
  const dir = rig.scratch(`claude-${name}`);
  const home = rig.scratch(`claude-${name}-home`);
  const args = ['-p', `Use agentvisor (${name})`, '--mcp-config', mcpConfig(dir, t, opts.token), '--strict-mcp-config', '--output-format', 'stream-json', '--verbose'];
  // Without an allow rule -p mode denies MCP tools ("you haven't granted it yet"); variadic, so last.
  if (opts.allowedTools) args.push('--allowedTools', opts.allowedTools.join(','));
  const run = await runClient(CLAUDE, args, { cwd: dir, env: claudeEnv(model.url, home), timeoutMs: 45_000 });
  const events = run.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l));
  return { run, events, model };
}

/** The tool_result block for `toolUseId` in the last user message of a recorded Messages request. */
function toolResult(body: any, toolUseId: string): any {
  const last = body.messages.at(-1);
  expect(last.role).toBe('user');
  const block = last.content.find((b: any) => b.type === 'tool_result' && b.tool_use_id === toolUseId);
  expect(block).toBeDefined();
  return block;
}

/** A tool_result's content as text (a string, or text blocks). */
function resultText(block: any): string {
  return typeof block.content === 'string' ? block.content : block.content.map((c: any) => c.text ?? '').join('');
}

describe.each<Transport>(['sse', 'http'])('Claude Code as an MCP client over %s', (t) => {
  test("the model calls mcp__agentvisor__session_list and session_start; agentvisor's answers reach the model", async () => {
    // A session started beforehand, so session_list has something to show that only agentvisor knows.
    const before = await call(sdk, 'session_start', { agent: 'codex', cwd: `before-claude-${t}`, task: 'lines 1' });
    const cwd = `from-claude-${t}`;
    const { run, events, model } = await runClaude(
      t,
      `tools-${t}`,
      [
        { text: 'Listing sessions.', toolCalls: [{ name: 'mcp__agentvisor__session_list', input: {} }] },
        { toolCalls: [{ name: 'mcp__agentvisor__session_start', input: { agent: 'codex', cwd, task: 'lines 2' } }] },
        { text: 'Started it.' },
      ],
      { allowedTools: ['mcp__agentvisor__session_list', 'mcp__agentvisor__session_start'] },
    );
    expect({ code: run.code, timedOut: run.timedOut }).toEqual({ code: 0, timedOut: false });

    // Claude Code connected to agentvisor and offered its tools under mcp__agentvisor__*.
    const init = events.find((e) => e.type === 'system' && e.subtype === 'init');
    expect(init.mcp_servers).toEqual([expect.objectContaining({ name: 'agentvisor', status: 'connected' })]);
    expect(init.tools).toEqual(expect.arrayContaining(AGENTVISOR_TOOLS));
    expect(model.requests).toHaveLength(3);
    const offered = model.requests[0].body.tools.map((x: any) => x.name);
    expect(offered).toEqual(expect.arrayContaining(AGENTVISOR_TOOLS));
    const startSchema = model.requests[0].body.tools.find((x: any) => x.name === 'mcp__agentvisor__session_start').input_schema;
    expect(startSchema.required).toEqual(expect.arrayContaining(['agent', 'cwd', 'task']));

    const result = events.find((e) => e.type === 'result');
    expect(result).toMatchObject({ subtype: 'success', is_error: false, result: 'Started it.', num_turns: 3, permission_denials: [] });

    // session_list: the tool_result in the second request is agentvisor's JSON, with the earlier session.
    const listUse = model.requests[1].body.messages.at(-2).content.find((b: any) => b.type === 'tool_use');
    expect(listUse).toMatchObject({ name: 'mcp__agentvisor__session_list' });
    const listBlock = toolResult(model.requests[1].body, listUse.id);
    expect(listBlock.is_error).toBeFalsy();
    const listed = JSON.parse(resultText(listBlock));
    expect(listed.sessions.find((s: any) => s.sessionId === before.sessionId)).toMatchObject({ agent: 'codex', cwd: before.cwd });
    expect(listed.agents.map((a: any) => a.agent)).toEqual(['claude-code', 'codex']);

    // session_start: the tool_result in the third request carries the new session's id.
    const startUse = model.requests[2].body.messages.at(-2).content.find((b: any) => b.type === 'tool_use');
    expect(startUse).toMatchObject({ name: 'mcp__agentvisor__session_start', input: { agent: 'codex', cwd, task: 'lines 2' } });
    const startBlock = toolResult(model.requests[2].body, startUse.id);
    expect(startBlock.is_error).toBeFalsy();
    const started = JSON.parse(resultText(startBlock));
    expect(started.sessionId).toMatch(UUID);
    expect(started).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });

    // And that session is real: agentvisor runs it, and its output is the fake agent's.
    const page = await call(sdk, 'session_wait', { sessionId: started.sessionId, since: 0, timeoutMs: 5_000 });
    expect(page.lines).toEqual(expect.arrayContaining(['line 0', 'line 1']));
    const { sessions } = await call(sdk, 'session_list');
    expect(sessions.find((s: any) => s.sessionId === started.sessionId)).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });
  });

  test('a wrong bearer token: Claude Code reports the server as not connected and offers none of its tools', async () => {
    const { run, events, model } = await runClaude(t, `badtoken-${t}`, [{ text: 'nothing to call' }], { token: 'not-the-token-0123456789abcdef' });
    expect(run.code).toBe(0);
    const init = events.find((e) => e.type === 'system' && e.subtype === 'init');
    expect(init.mcp_servers).toHaveLength(1);
    expect(init.mcp_servers[0].name).toBe('agentvisor');
    expect(init.mcp_servers[0].status).not.toBe('connected'); // 2.1.197 says "failed"
    expect(model.requests[0].body.tools.map((x: any) => x.name).filter((n: string) => n.startsWith('mcp__agentvisor__'))).toEqual([]);
  });
});
