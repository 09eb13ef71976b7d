/**
 * Session output resources read by the URI resources/list gives (no query), and
 * with since/limit each optional and in either order; URIs that are not a
 * session's output refused as invalid params (-32602), not as internal errors.
 */
import fs from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { type RunningServer, call, connect, reapLeftovers, startServer, until } from '../helpers/server';

let server: RunningServer;
let client: Client;
let sessionId: string;
let listedUri: string;

beforeAll(async () => {
  server = await startServer();
  client = await connect(server, 'http');
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'uris', task: 'lines 5' });
  sessionId = s.sessionId;
  await until(async () => (await call(client, 'session_wait', { sessionId, since: 0, timeoutMs: 2_000 })).status === 'exited', 15_000, 'session end');
  const { resources } = await client.listResources();
  listedUri = resources.find((r) => r.uri.includes(sessionId))!.uri;
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  reapLeftovers(server.dirs);
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
});

const page = async (uri: string) => JSON.parse(((await client.readResource({ uri })).contents[0] as { text: string }).text);

async function errorOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    return { code: err instanceof McpError ? err.code : NaN, message: (err as Error).message };
  }
  throw new Error('expected the request to fail');
}

let all: string[];

test('the URI exactly as resources/list gives it reads the session output', async () => {
  expect(listedUri).toBe(`agentvisor://sessions/${sessionId}/output`);
  const p = await page(listedUri);
  all = p.lines;
  expect(p).toMatchObject({ sessionId, status: 'exited', offset: 0, nextOffset: all.length, hasMore: false });
  expect(all).toEqual(expect.arrayContaining(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']));
  // The same page session_output gives.
  expect((await call(client, 'session_output', { sessionId, since: 0 })).lines).toEqual(all);
});

test('since and limit are each optional and may come in any order', async () => {
  expect(all.length).toBeGreaterThan(4);
  expect((await page(`${listedUri}?since=0&limit=2`)).lines).toEqual(all.slice(0, 2));
  expect((await page(`${listedUri}?limit=2&since=1`)).lines).toEqual(all.slice(1, 3));
  expect((await page(`${listedUri}?since=3`)).lines).toEqual(all.slice(3));
  expect((await page(`${listedUri}?limit=1`)).lines).toEqual(all.slice(0, 1));
  expect((await page(`${listedUri}?`)).lines).toEqual(all);
});

test('a bad query is refused as invalid params, naming what is wrong', async () => {
  for (const [query, why] of [
    ['since=-1', 'since must be a whole number'],
    ['limit=abc', 'limit must be a whole number'],
    ['limit=0', 'limit must be'],
    ['since=1&since=2', 'since is given more than once'],
    ['offset=3', 'unknown query parameter "offset"'],
  ]) {
    const e = await errorOf(client.readResource({ uri: `${listedUri}?${query}` }));
    expect({ query, code: e.code, message: e.message }).toEqual({ query, code: ErrorCode.InvalidParams, message: expect.stringContaining(why) });
  }
});

test('subscribing to a URI that is not a session output is invalid params, and so is an unknown session', async () => {
  for (const uri of ['agentvisor://elsewhere', 'file:///etc/passwd', `agentvisor://sessions/${sessionId}/input`, 'agentvisor://sessions/not-an-id/output']) {
    const e = await errorOf(client.subscribeResource({ uri }));
    expect({ uri, code: e.code }).toEqual({ uri, code: ErrorCode.InvalidParams });
    expect(e.message).toContain('not a session output resource');
  }
  const unknown = await errorOf(client.subscribeResource({ uri: 'agentvisor://sessions/00000000-0000-4000-8000-000000000000/output' }));
  expect(unknown).toEqual({ code: ErrorCode.InvalidParams, message: expect.stringContaining('unknown sessionId') });
  await client.subscribeResource({ uri: listedUri });
  await client.unsubscribeResource({ uri: listedUri });
});

test('the template clients are shown still names both parameters', async () => {
  const { resourceTemplates } = await client.listResourceTemplates();
  expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['agentvisor://sessions/{sessionId}/output{?since,limit}']);
});
