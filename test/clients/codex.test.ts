/**
 * Codex (the real `codex` CLI 0.169, node_modules/.bin/codex) as an MCP client of agentvisor over
 * Streamable HTTP, the only remote transport it speaks. Configured the way a user would, in
 * `$CODEX_HOME/config.toml`:
 *
 *   [mcp_servers.agentvisor]
 *   url = "http://127.0.0.1:<port>/mcp"
 *   bearer_token_env_var = "AGENTVISOR_TOKEN"
 *   default_tools_approval_mode = "approve"   # `codex exec` never asks, so unapproved calls are refused
 *
 * `codex exec --skip-git-repo-check` runs with a closed stdin against the scripted ModelServer.
 * Codex offers MCP tools to the model in one of two ways, depending on the model, and both are
 * exercised:
 * - its default model ("code mode"): the tools are deferred nested tools of the freeform `exec`
 *   tool, called from JavaScript as `tools.mcp__agentvisor__session_list({})`; the result comes
 *   back as a `custom_tool_call_output` (ModelServer writes that script by itself).
 * - a model with plain function tools (gpt-5.1-codex here): a `namespace` tool `mcp__agentvisor`
 *   whose functions the model calls as `{type: "function_call", namespace: "mcp__agentvisor",
 *   name: "session_list"}` (NamespacingProxy adds the namespace); the result comes back as a
 *   `function_call_output`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ROOT, TEST_TOKEN, call, connect, until } from '../helpers/server';
import { codexConfigToml } from '../support/agentEnv';
import { type ClientRig, type ClientRun, NamespacingProxy, runClient, startClientRig } from '../support/mcpClients';
import { ModelServer, type ScriptTurn, codexEnv } from '../support/modelServer';
import { TOOL_NAMES } from '../support/toolNames';

const CODEX = path.join(ROOT, 'node_modules/.bin/codex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOOLS = TOOL_NAMES;

let rig: ClientRig;
let sdk: Client;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  rig = await startClientRig();
  sdk = await connect(rig.server, 'sse');
});

afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

afterAll(async () => {
  await sdk?.close().catch(() => undefined);
  await rig?.close();
});

/** Runs `codex exec` with agentvisor configured as an MCP server; the model is `modelUrl`. */
async function runCodex(name: string, modelUrl: string, opts: { model?: string; approve?: boolean; token?: string } = {}): Promise<ClientRun> {
  const cwd = rig.scratch(`codex-${name}`);
  const home = rig.scratch(`codex-${name}-home`);
  const codexHome = rig.scratch(`codex-${name}-codexhome`);
  const toml = [
    ...(opts.model ? [`model = ${JSON.stringify(opts.model)}`] : []),
    codexConfigToml(modelUrl, 0),
    '[mcp_servers.agentvisor]',
    `url = ${JSON.stringify(`${rig.server.url}/mcp`)}`,
    'bearer_token_env_var = "AGENTVISOR_TOKEN"',
    ...(opts.approve === false ? [] : ['default_tools_approval_mode = "approve"']),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(codexHome, 'config.toml'), toml);
  const env = codexEnv(home, codexHome, { AGENTVISOR_TOKEN: opts.token ?? TEST_TOKEN, TMPDIR: rig.scratch(`codex-${name}-tmp`) });
  return runClient(CODEX, ['exec', '--skip-git-repo-check', `Use agentvisor (${name})`], { cwd, env, timeoutMs: 45_000 });
}

async function model(script: ScriptTurn[]): Promise<ModelServer> {
  const m = await ModelServer.start(script);
  closers.push(() => m.close());
  return m;
}

/** The input item of `type` answering `callId` in a recorded Responses request. */
function outputFor(body: any, type: string, callId: string): any {
  const item = (body.input as any[]).find((i) => i.type === type && i.call_id === callId);
  if (!item) throw new Error(`no ${type} for ${callId} in ${JSON.stringify(body.input.map((i: any) => i.type))}`);
  return item;
}

/** The texts of a tool output (a string, or content items). */
function texts(output: unknown): string[] {
  if (typeof output === 'string') return [output];
  if (Array.isArray(output)) return output.map((o: any) => o?.text ?? '').filter(Boolean);
  return [];
}

/**
 * agentvisor's JSON result object found in a tool output: either the MCP CallToolResult (its
 * structuredContent, or its text content parsed) or the structured object itself. Codex puts a
 * "Wall time: …\nOutput:\n" header before a function call's result (the structured content as
 * JSON); in code mode the script's text() output is an item of its own.
 */
function agentvisorResult(output: unknown): any {
  for (const t of texts(output)) {
    let v: any;
    try {
      v = JSON.parse(t.includes('Output:\n') ? t.slice(t.indexOf('Output:\n') + 'Output:\n'.length) : t);
    } catch {
      continue;
    }
    if (v?.structuredContent) return v.structuredContent;
    if (Array.isArray(v?.content) && v.content[0]?.type === 'text') return JSON.parse(v.content[0].text);
    if (Array.isArray(v) && v[0]?.type === 'text') return JSON.parse(v[0].text);
    if (v && typeof v === 'object') return v;
  }
  throw new Error(`no JSON result in ${JSON.stringify(output).slice(0, 2000)}`);
}

/** Open MCP connections agentvisor counts (its /health, with the token). */
async function openConnections(): Promise<number> {
  const res = await fetch(`${rig.server.url}/health`, { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
  return ((await res.json()) as { connections: number }).connections;
}

async function expectSessionRuns(sessionId: string, cwd: string): Promise<void> {
  const page = await call(sdk, 'session_wait', { sessionId, since: 0, timeoutMs: 5_000 });
  expect(page.lines).toEqual(expect.arrayContaining(['line 0', 'line 1']));
  const { sessions } = await call(sdk, 'session_list');
  expect(sessions.find((s: any) => s.sessionId === sessionId)).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });
}

test("default model (code mode): exec calls tools.mcp__agentvisor__session_list / session_start; the outputs carry agentvisor's data", async () => {
  const before = await call(sdk, 'session_start', { agent: 'codex', cwd: 'before-codex-code', task: 'lines 1' });
  const cwd = 'from-codex-code';
  const m = await model([
    { toolCalls: [{ name: 'mcp__agentvisor__session_list', input: {} }] },
    { toolCalls: [{ name: 'mcp__agentvisor__session_start', input: { agent: 'codex', cwd, task: 'lines 2' } }] },
    { text: 'CODEX-USED-AGENTVISOR' },
  ]);
  const run = await runCodex('code', m.url);
  expect({ code: run.code, timedOut: run.timedOut, stdout: run.stdout.trim() }).toEqual({ code: 0, timedOut: false, stdout: 'CODEX-USED-AGENTVISOR' });
  expect(run.stderr).toContain('mcp: agentvisor/session_list (completed)');
  expect(run.stderr).toContain('mcp: agentvisor/session_start (completed)');
  expect(m.requests).toHaveLength(3);

  // The model is told of the deferred namespace; the exec tool reaches it as tools.mcp__agentvisor__*.
  expect(JSON.stringify(m.requests[0].body.input)).toContain('- mcp__agentvisor: agentvisor runs coding agents');

  const listCall = (m.requests[1].body.input as any[]).find((i) => i.type === 'custom_tool_call');
  expect(listCall).toMatchObject({ name: 'exec' });
  expect(listCall.input).toContain('tools.mcp__agentvisor__session_list(');
  const listed = agentvisorResult(outputFor(m.requests[1].body, 'custom_tool_call_output', listCall.call_id).output);
  expect(listed.sessions.find((s: any) => s.sessionId === before.sessionId)).toMatchObject({ agent: 'codex', cwd: before.cwd });
  expect(listed.agents.map((a: any) => a.agent)).toEqual(['claude-code', 'codex']);

  const startCall = (m.requests[2].body.input as any[]).filter((i) => i.type === 'custom_tool_call').at(-1);
  expect(startCall.input).toContain('tools.mcp__agentvisor__session_start(');
  const started = agentvisorResult(outputFor(m.requests[2].body, 'custom_tool_call_output', startCall.call_id).output);
  expect(started.sessionId).toMatch(UUID);
  expect(started).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });
  await expectSessionRuns(started.sessionId, cwd);

  // Codex ends its Streamable HTTP session (DELETE /mcp) when it exits: only the test's own SSE client is left.
  await until(async () => (await openConnections()) === 1, 5_000, 'codex to end its MCP session');
});

test('function-tool model: a namespaced function_call (namespace mcp__agentvisor) reaches agentvisor; function_call_output carries its data', async () => {
  const before = await call(sdk, 'session_start', { agent: 'codex', cwd: 'before-codex-ns', task: 'lines 1' });
  const cwd = 'from-codex-ns';
  const m = await model([
    { toolCalls: [{ name: 'mcp__agentvisor__session_list', input: {} }] },
    { toolCalls: [{ name: 'mcp__agentvisor__session_start', input: { agent: 'codex', cwd, task: 'lines 2' } }] },
    { text: 'CODEX-USED-AGENTVISOR-NS' },
  ]);
  const proxy = await NamespacingProxy.start(m.url);
  closers.push(() => proxy.close());
  const run = await runCodex('ns', proxy.url, { model: 'gpt-5.1-codex' });
  expect({ code: run.code, timedOut: run.timedOut, stdout: run.stdout.trim() }).toEqual({ code: 0, timedOut: false, stdout: 'CODEX-USED-AGENTVISOR-NS' });
  expect(run.stderr).toContain('mcp: agentvisor/session_list (completed)');
  expect(run.stderr).toContain('mcp: agentvisor/session_start (completed)');
  expect(m.requests).toHaveLength(3);
  expect(proxy.rewritten.size).toBe(2);

  // Offered as a namespace of plain functions, one per agentvisor tool, with its input schema.
  const ns = (m.requests[0].body.tools as any[]).find((x) => x.type === 'namespace' && x.name === 'mcp__agentvisor');
  expect(ns.tools.map((x: any) => x.name).sort()).toEqual(TOOLS);
  expect(ns.tools.every((x: any) => x.type === 'function')).toBe(true);
  expect(ns.tools.find((x: any) => x.name === 'session_start').parameters.required).toEqual(expect.arrayContaining(['agent', 'cwd', 'task']));

  const listCall = (m.requests[1].body.input as any[]).find((i) => i.type === 'function_call');
  expect(listCall).toMatchObject({ namespace: 'mcp__agentvisor', name: 'session_list' });
  const listOut = outputFor(m.requests[1].body, 'function_call_output', listCall.call_id);
  expect(JSON.stringify(listOut.output)).not.toMatch(/unsupported call/);
  const listed = agentvisorResult(listOut.output);
  expect(listed.sessions.find((s: any) => s.sessionId === before.sessionId)).toMatchObject({ agent: 'codex', cwd: before.cwd });

  const startCall = (m.requests[2].body.input as any[]).filter((i) => i.type === 'function_call').at(-1);
  expect(startCall).toMatchObject({ namespace: 'mcp__agentvisor', name: 'session_start' });
  expect(JSON.parse(startCall.arguments)).toEqual({ agent: 'codex', cwd, task: 'lines 2' });
  const started = agentvisorResult(outputFor(m.requests[2].body, 'function_call_output', startCall.call_id).output);
  expect(started.sessionId).toMatch(UUID);
  expect(started).toMatchObject({ agent: 'codex', cwd: path.join(rig.dirs.workspace, cwd) });
  await expectSessionRuns(started.sessionId, cwd);
});

test('without default_tools_approval_mode Codex runs only the tools agentvisor annotates read-only: session_list yes, session_start refused', async () => {
  const cwd = 'codex-unapproved';
  const m = await model([
    { toolCalls: [{ name: 'mcp__agentvisor__session_list', input: {} }] },
    { toolCalls: [{ name: 'mcp__agentvisor__session_start', input: { agent: 'codex', cwd, task: 'lines 2' } }] },
    { text: 'fin' },
  ]);
  const run = await runCodex('unapproved', m.url, { approve: false });
  expect(run.code).toBe(0);
  expect(m.requests).toHaveLength(3);
  // session_list (readOnlyHint: true) needs no approval ...
  expect(run.stderr).toContain('mcp: agentvisor/session_list (completed)');
  const listCall = (m.requests[1].body.input as any[]).find((i) => i.type === 'custom_tool_call');
  expect(agentvisorResult(outputFor(m.requests[1].body, 'custom_tool_call_output', listCall.call_id).output).agents).toHaveLength(2);
  // ... session_start (readOnlyHint: false) does, and `codex exec` never asks: agentvisor never sees the call.
  expect(run.stderr).toContain('mcp: agentvisor/session_start (failed)');
  const startCall = (m.requests[2].body.input as any[]).filter((i) => i.type === 'custom_tool_call').at(-1);
  expect(JSON.stringify(outputFor(m.requests[2].body, 'custom_tool_call_output', startCall.call_id).output)).toContain('MCP tool call requires approval, but approval policy is never');
  const { sessions } = await call(sdk, 'session_list');
  expect(sessions.filter((s: any) => s.cwd === path.join(rig.dirs.workspace, cwd))).toEqual([]);
});

test('a wrong bearer token: agentvisor answers 401, Codex reports AuthRequired and offers the model none of its tools', async () => {
  const m = await model([{ text: 'fin' }]);
  const run = await runCodex('badtoken', m.url, { token: 'not-the-token-0123456789abcdef' });
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/AuthRequired.*Bearer realm=\\"agentvisor\\"/);
  expect(m.requests).toHaveLength(1);
  expect(JSON.stringify(m.requests[0].body)).not.toContain('mcp__agentvisor');
});
