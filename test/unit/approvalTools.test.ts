/**
 * Mode ask at the MCP edge, in-process: the real McpServer with agentvisor's tools
 * (createMcpServer) and real SDK clients over the SDK's in-memory transport, on the
 * session core against FakeWorker. session_approve's answers and who they are
 * recorded as, session_wait's early return, elicitation for a client that declared
 * it (and never for one that did not), decline leaving the request pending, and
 * two clients answering the same request.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type ElicitResult, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../../src/supervisor/config';
import { createMcpServer } from '../../src/supervisor/mcp/createServer';
import type { Journal } from '../../src/supervisor/journal';
import type { SessionManager } from '../../src/supervisor/sessionManager';
import type { ToolContext } from '../../src/supervisor/tools/context';
import { disposeCore, makeCore } from './support/coreRig';
import type { FakeWorker } from './support/fakeWorker';

let dir: string;
let journal: Journal;
let workers: FakeWorker[];
let core: SessionManager;
let config: Config;
const clients: Client[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-approvaltools-'));
  fs.mkdirSync(path.join(dir, 'ws'));
  workers = [];
  ({ journal, core, config } = makeCore(dir, workers, ['hello']));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await disposeCore(core, workers, journal, dir);
});

/** A connected SDK client; `elicit` given: it declares the capability and answers with it. */
async function connect(name: string, elicit?: (message: string) => ElicitResult): Promise<{ client: Client; asked: string[]; received: string[] }> {
  // The approval tools use no file pool or agent catalog.
  const ctx = { config, sessions: core, log: winston.createLogger({ silent: true }) } as ToolContext;
  const server = createMcpServer(ctx, '0.0.0-test');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name, version: '1' }, { capabilities: elicit ? { elicitation: {} } : {} });
  const asked: string[] = [];
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return elicit(req.params.message);
    });
  }
  await server.connect(a);
  await client.connect(b);
  // Every request the server sends this client, whatever the client would do with it.
  const received: string[] = [];
  const deliver = b.onmessage!;
  b.onmessage = (m, extra) => {
    if ('method' in m && 'id' in m) received.push(m.method);
    deliver(m, extra);
  };
  clients.push(client);
  return { client, asked, received };
}

async function call<T = Record<string, any>>(client: Client, name: string, args: Record<string, unknown>): Promise<T & { isError?: boolean; text: string }> {
  const r = (await client.callTool({ name, arguments: args })) as { structuredContent?: T; isError?: boolean; content: Array<{ text: string }> };
  return { ...(r.structuredContent as T), isError: r.isError, text: r.content[0]?.text ?? '' };
}

async function askedSession(): Promise<string> {
  const { info } = await core.start({ agent: 'claude-code', cwd: path.join(dir, 'ws'), task: 'do it', mode: 'ask' });
  const told = new Promise((resolve) => core.once('approval', resolve));
  workers[0].ask('ap-1', 'Bash: touch ran.txt');
  await told;
  return info.sessionId;
}

test('session_wait returns the pending list at once; session_approve answers, records the connection, and repeats are idempotent', async () => {
  const id = await askedSession();
  const { client } = await connect('plain');
  const page = await call(client, 'session_wait', { sessionId: id, timeoutMs: 30_000 });
  expect(page).toMatchObject({ status: 'awaiting_approval', timedOut: false, pendingApprovals: [{ approvalId: 'ap-1', summary: 'Bash: touch ran.txt' }] });
  const first = await call(client, 'session_approve', { sessionId: id, approvalId: 'ap-1', decision: 'deny', message: 'not now' });
  expect(first).toMatchObject({ alreadyDecided: false, approval: { state: 'decided', decision: 'deny', message: 'not now', decidedBy: expect.stringMatching(/^connection:/) } });
  const again = await call(client, 'session_approve', { sessionId: id, approvalId: 'ap-1', decision: 'allow' });
  expect(again).toMatchObject({ alreadyDecided: true, approval: { decision: 'deny' } });
  const unknown = await call(client, 'session_approve', { sessionId: id, approvalId: 'ap-9', decision: 'allow' });
  expect(unknown.isError).toBe(true);
  expect(unknown.text).toMatch(/unknown approvalId "ap-9"/);
});

test("the operator CLI's answers are recorded as cli", async () => {
  const id = await askedSession();
  const { client } = await connect('agentvisor-cli');
  expect(await call(client, 'session_approve', { sessionId: id, approvalId: 'ap-1', decision: 'allow' })).toMatchObject({ approval: { decidedBy: 'cli' } });
});

test('a client that declared elicitation and waits is asked, and its answer applied; one that did not is never asked', async () => {
  const id = await askedSession();
  const plain = await connect('plain');
  expect(await call(plain.client, 'session_wait', { sessionId: id, timeoutMs: 30_000 })).toMatchObject({ status: 'awaiting_approval' });
  expect(plain.received).toEqual([]);
  const eliciting = await connect('eliciting', () => ({ action: 'accept', content: { decision: 'allow_for_session' } }));
  const page = await call(eliciting.client, 'session_wait', { sessionId: id, timeoutMs: 30_000 });
  expect(eliciting.asked).toEqual([expect.stringContaining('Bash: touch ran.txt')]);
  expect(eliciting.received).toEqual(['elicitation/create']);
  expect(page.status).toBe('running');
  expect(page.pendingApprovals).toBeUndefined();
  expect(page.approvalsAnswered).toEqual([expect.objectContaining({ approvalId: 'ap-1', decision: 'allow_for_session', decidedBy: expect.stringMatching(/^connection:/) })]);
  expect(workers[0].outcomes.get('ap-1')?.decision).toBe('allow_for_session');
});

test('a declined elicitation leaves the request pending (not a deny) and is not asked again on that connection', async () => {
  const id = await askedSession();
  const eliciting = await connect('eliciting', () => ({ action: 'decline' }));
  expect(await call(eliciting.client, 'session_wait', { sessionId: id, timeoutMs: 30_000 })).toMatchObject({ status: 'awaiting_approval' });
  // Shown once to this connection: the next wait blocks as usual (it times out here), still listing it.
  expect(await call(eliciting.client, 'session_wait', { sessionId: id, timeoutMs: 200 })).toMatchObject({ status: 'awaiting_approval', timedOut: true, pendingApprovals: [{ approvalId: 'ap-1' }] });
  expect(eliciting.asked).toHaveLength(1);
  expect(core.listApprovals({ sessionId: id })[0]).toMatchObject({ state: 'pending' });
});

test('session_start with waitMs returns early with the pending list when nobody can be asked', async () => {
  const { client } = await connect('plain');
  const starting = call(client, 'session_start', { agent: 'claude-code', cwd: 'ws', task: 'do it', mode: 'ask', waitMs: 60_000 });
  // The worker asks once it runs; the one-call wait must not sleep through it.
  await new Promise((resolve) => core.once('lifecycle', resolve));
  workers[0].ask('ap-1');
  expect(await starting).toMatchObject({ status: 'awaiting_approval', awaitingApproval: true, timedOut: false, pendingApprovals: [{ approvalId: 'ap-1' }] });
});

test('a connection is told of a pending request at once, once: its next wait blocks until output or a new request', async () => {
  const id = await askedSession();
  const { client } = await connect('follower');
  expect(await call(client, 'session_wait', { sessionId: id, timeoutMs: 30_000 })).toMatchObject({ timedOut: false, pendingApprovals: [{ approvalId: 'ap-1' }] });
  // Shown already: the wait blocks (here until its timeout), still listing it.
  expect(await call(client, 'session_wait', { sessionId: id, timeoutMs: 300 })).toMatchObject({ timedOut: true, pendingApprovals: [{ approvalId: 'ap-1' }] });
  const next = call(client, 'session_wait', { sessionId: id, timeoutMs: 30_000 });
  setTimeout(() => workers[0].ask('ap-2'), 50);
  const page = await next;
  expect(page).toMatchObject({ timedOut: false, pendingApprovals: [{ approvalId: 'ap-1' }, { approvalId: 'ap-2' }] });
  const other = await connect('another');
  expect(await call(other.client, 'session_wait', { sessionId: id, timeoutMs: 30_000 })).toMatchObject({ timedOut: false, pendingApprovals: [{}, {}] });
});

test('two clients: one answers, the other is told it was already decided and by whom', async () => {
  const id = await askedSession();
  const a = await connect('a');
  const b = await connect('b');
  const first = await call(a.client, 'session_approve', { sessionId: id, approvalId: 'ap-1', decision: 'allow' });
  const second = await call(b.client, 'session_approve', { sessionId: id, approvalId: 'ap-1', decision: 'deny' });
  expect(second).toMatchObject({ alreadyDecided: true, approval: { decision: 'allow', decidedBy: first.approval.decidedBy } });
});

test('every client gets a log notification of a pending request, and a subscriber of the output resource an update', async () => {
  const { info } = await core.start({ agent: 'claude-code', cwd: path.join(dir, 'ws'), task: 'do it', mode: 'ask' });
  const { client } = await connect('listener');
  const logged = new Promise<unknown>((resolve) => client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => resolve(n.params.data)));
  const updated = new Promise<string>((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
  await client.subscribeResource({ uri: `agentvisor://sessions/${info.sessionId}/output` });
  workers[0].ask('ap-1', 'Bash: rm -rf build');
  expect(await logged).toMatchObject({ sessionId: info.sessionId, event: 'approval_pending', approvalId: 'ap-1', summary: 'Bash: rm -rf build' });
  expect(await updated).toBe(`agentvisor://sessions/${info.sessionId}/output`);
});

test('session_start with waitMs asks an eliciting client, applies the answer and waits on to the final answer', async () => {
  const eliciting = await connect('eliciting', () => ({ action: 'accept', content: { decision: 'allow' } }));
  core.once('lifecycle', () => setTimeout(() => workers[0].ask('ap-1'), 20));
  core.on('approval', (_id, d) => d.event === 'approval_resolved' && workers[0].end());
  const r = await call(eliciting.client, 'session_start', { agent: 'claude-code', cwd: 'ws', task: 'do it', mode: 'ask', waitMs: 60_000 });
  expect(eliciting.asked).toHaveLength(1);
  expect(r).toMatchObject({ status: 'exited', timedOut: false, finalAnswer: 'done' });
  expect(r.awaitingApproval).toBeUndefined();
  expect(workers[0].outcomes.get('ap-1')).toMatchObject({ decision: 'allow', decidedBy: expect.stringMatching(/^connection:/) });
});

test('approve rules are refused outside mode ask', async () => {
  const { client } = await connect('plain');
  const r = await call(client, 'session_start', { agent: 'claude-code', cwd: 'ws', task: 'x', mode: 'edit', approve: { allowTools: ['Read'] } });
  expect(r.isError).toBe(true);
  expect(r.text).toMatch(/approve applies only to mode "ask"/);
});
