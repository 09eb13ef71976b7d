/**
 * The MCP surface beyond plain tool calls, over both transports: declared
 * output schemas and annotations, progress and cancellation of session_wait,
 * session output as subscribable resources, log notifications, and the
 * Streamable HTTP session rules.
 */
import fs from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { type RunningServer, call, connect, startServer, until, reapLeftovers } from '../helpers/server';
import { TOOL_NAMES } from '../support/toolNames';

/** A one-line fake session ends within milliseconds; this is only the bound on a stuck one. */
const SESSION_END_MS = 5_000;

let server: RunningServer;
let sse: Client;
let http: Client;

beforeAll(async () => {
  server = await startServer({ env: { WAIT_PROGRESS_INTERVAL: '100' } });
  sse = await connect(server, 'sse');
  http = await connect(server, 'http');
});

afterAll(async () => {
  await sse?.close();
  await http?.close();
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

test('both transports list the same tools, each with an output schema and honest annotations', async () => {
  const a = (await sse.listTools()).tools;
  const b = (await http.listTools()).tools;
  expect(a.map((t) => t.name).sort()).toEqual(b.map((t) => t.name).sort());
  expect(a.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
  for (const t of a) {
    expect(t.outputSchema?.type).toBe('object');
    expect(t.description!.length).toBeGreaterThan(40);
  }
  const byName = Object.fromEntries(a.map((t) => [t.name, t]));
  for (const ro of ['session_output', 'session_wait', 'session_list', 'session_diff', 'read_file', 'list_directory']) expect(byName[ro].annotations?.readOnlyHint).toBe(true);
  expect(byName.session_kill.annotations?.destructiveHint).toBe(true);
  expect(byName.session_start.annotations?.openWorldHint).toBe(true);
});

test('a session started over one transport is steered over the other', async () => {
  const s = await call(sse, 'session_start', { agent: 'codex', cwd: 'cross', task: 'lines 3' });
  const page = await call(http, 'session_wait', { sessionId: s.sessionId, since: 0, timeoutMs: 5_000 });
  expect(page.lines).toContain('line 0');
});

test('session_wait sends progress while it waits and stops at once when cancelled', async () => {
  const s = await call(http, 'session_start', { agent: 'codex', cwd: 'progress', task: 'silent' });
  const progress: number[] = [];
  const res = await http.callTool({ name: 'session_wait', arguments: { sessionId: s.sessionId, timeoutMs: 700 } }, undefined, { onprogress: (p) => progress.push(p.progress), timeout: 10_000 });
  expect((res.structuredContent as any).timedOut).toBe(true);
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(progress).toEqual([...progress].sort((x, y) => x - y));

  const abort = new AbortController();
  const t0 = Date.now();
  // Cancelled on its first progress notification: the server is then certainly inside the wait.
  const pending = sse.callTool({ name: 'session_wait', arguments: { sessionId: s.sessionId, timeoutMs: 60_000 } }, undefined, {
    signal: abort.signal,
    onprogress: () => abort.abort('test cancels'),
  });
  await expect(pending).rejects.toThrow();
  expect(Date.now() - t0).toBeLessThan(3_000);
  // The server is unharmed and the session still answers.
  expect((await call(sse, 'session_output', { sessionId: s.sessionId })).status).toBe('running');
  await call(sse, 'session_kill', { sessionId: s.sessionId });
});

test('session output is a listed, pageable, subscribable resource', async () => {
  const s = await call(http, 'session_start', { agent: 'codex', cwd: 'res', task: 'tick 6 150' });
  const uri = `agentvisor://sessions/${s.sessionId}/output`;
  const { resources } = await http.listResources();
  expect(resources.map((r) => r.uri)).toContain(uri);
  const updates: string[] = [];
  http.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
  });
  await http.subscribeResource({ uri });
  await until(() => updates.length >= 2, 5_000, 'resource updates');
  expect(updates.every((u) => u === uri)).toBe(true);
  const read = await http.readResource({ uri: `${uri}?since=0&limit=2` });
  const page = JSON.parse((read.contents[0] as { text: string }).text);
  expect(page.lines).toHaveLength(2);
  expect(page.offset).toBe(0);
  expect(page.nextOffset).toBe(2);
  await http.unsubscribeResource({ uri });
});

test('lifecycle log notifications follow the level the client sets', async () => {
  const messages: any[] = [];
  sse.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    messages.push(n.params);
  });
  await sse.setLoggingLevel('info');
  const s = await call(sse, 'session_start', { agent: 'codex', cwd: 'log', task: 'lines 1' });
  await until(() => messages.some((m) => m.data?.sessionId === s.sessionId && m.data?.status === 'exited'), 5_000, 'exit log');
  await sse.setLoggingLevel('error');
  const before = messages.length;
  const t = await call(sse, 'session_start', { agent: 'codex', cwd: 'log', task: 'lines 1' });
  await call(sse, 'session_wait', { sessionId: t.sessionId, since: 0 });
  // The supervisor journals an exit and emits its lifecycle notification in one step, and the
  // notification goes out on this client's stream before the answer to any later request: once
  // this client reads the session as exited, an info notification of its exit would be here.
  await until(async () => (await call(sse, 'session_output', { sessionId: t.sessionId, since: 0, limit: 1 })).status === 'exited', SESSION_END_MS, 'second session to exit');
  expect(messages.slice(before).filter((m) => m.level === 'info')).toEqual([]);
});

test('Streamable HTTP session rules: 400 without a session id, 404 for an unknown or deleted one', async () => {
  const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  expect((await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: list })).status).toBe(400);
  expect((await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, 'Mcp-Session-Id': 'no-such-session' }, body: list })).status).toBe(404);
  const init = await fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  expect(init.status).toBe(200);
  const sid = init.headers.get('mcp-session-id')!;
  expect(sid).toMatch(/^[0-9a-f-]{36}$/);
  await init.text();
  const del = await fetch(`${server.url}/mcp`, { method: 'DELETE', headers: { ...headers, 'Mcp-Session-Id': sid } });
  expect(del.status).toBe(200);
  expect((await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, 'Mcp-Session-Id': sid }, body: list })).status).toBe(404);
});
