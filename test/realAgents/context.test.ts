/**
 * `context` on session_start and session_send (issue 19 item 7) reaching the model, against the
 * REAL `claude` and `codex` CLIs and the scripted model server (which records every request):
 * files by path, MCP embedded resources and resource links, each under its header in the user
 * message; and the refusals (outside the roots, binary, too much, unreadable links) before any
 * agent starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Limits } from '../../src/shared/constants';
import { closeRigs, follow, readAll, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

/** Every text the user role sent in a Messages (Claude) or Responses (Codex) request. */
function userText(body: any): string {
  if (Array.isArray(body.messages)) {
    return body.messages
      .filter((m: any) => m.role === 'user')
      .map((m: any) => (typeof m.content === 'string' ? m.content : m.content.map((c: any) => c.text ?? '').join('')))
      .join('\n');
  }
  return (body.input as any[])
    .filter((i) => i.type === 'message' && i.role === 'user')
    .map((i) => i.content.map((c: any) => c.text).join(''))
    .join('\n');
}

test('claude session_start: a file page, an embedded resource and a file:// link, each under its header after the task', async () => {
  const rig = await startRealRig([{ text: 'READ-IT' }]);
  const dir = path.join(rig.dirs.workspace, 'ctx');
  fs.mkdirSync(dir, { recursive: true });
  const spec = path.join(dir, 'spec.md');
  fs.writeFileSync(spec, Array.from({ length: 10 }, (_, i) => `SPEC-LINE-${i + 1}`).join('\n') + '\n');
  const linked = path.join(dir, 'linked.txt');
  fs.writeFileSync(linked, 'LINKED-CONTENT\n');
  const s = await rig.call('session_start', {
    agent: 'claude-code',
    cwd: 'ctx',
    task: 'TASK-TEXT summarise the attachments',
    context: [
      { type: 'file', path: 'ctx/spec.md', offset: 2, maxLines: 3 },
      { type: 'resource', resource: { uri: 'mem://notes/1', mimeType: 'text/plain', text: 'EMBEDDED-NOTE' }, annotations: { audience: ['assistant'] } },
      { type: 'resource_link', uri: pathToFileURL(linked).href, name: 'linked' },
    ],
  });
  const ended = await waitEnded(rig.client, s.sessionId);
  expect(ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
  const sent = userText(rig.model.requests[0].body);
  expect(sent).toContain('TASK-TEXT summarise the attachments');
  expect(sent).toContain(`===== context 1 of 3: file ${spec} (lines 3-5; the file goes on (attach offset 5 for more)) =====\nSPEC-LINE-3\nSPEC-LINE-4\nSPEC-LINE-5\n===== end of context 1 of 3 =====`);
  expect(sent).not.toContain('SPEC-LINE-2');
  expect(sent).not.toContain('SPEC-LINE-6');
  expect(sent).toContain('===== context 2 of 3: resource mem://notes/1, text/plain =====\nEMBEDDED-NOTE\n===== end of context 2 of 3 =====');
  expect(sent).toContain(`===== context 3 of 3: file ${linked} (lines 1-1 of 1) =====\nLINKED-CONTENT\n=====`);
  expect(sent.indexOf('TASK-TEXT')).toBeLessThan(sent.indexOf('===== context 1'));

  // A later session gets the first one's output through its agentvisor:// link.
  rig.model.push({ text: 'SECOND' });
  const s2 = await rig.call('session_start', {
    agent: 'claude-code',
    cwd: 'ctx',
    task: 'what did the other session say?',
    context: [{ type: 'resource_link', uri: `agentvisor://sessions/${s.sessionId}/output`, name: 'first' }],
  });
  await waitEnded(rig.client, s2.sessionId);
  const second = userText(rig.model.requests[1].body);
  expect(second).toMatch(new RegExp(`===== context 1 of 1: output of session ${s.sessionId}, lines 0-\\d+ =====\\n[^]*READ-IT`));
});

test.each(['app-server', 'exec'])('codex over %s: context on session_start and on a session_send that continues the thread', async (protocol) => {
  const rig = await startRealRig([{ text: 'FIRST' }, { text: 'SECOND' }], { env: { CODEX_PROTOCOL: protocol } });
  fs.mkdirSync(path.join(rig.dirs.workspace, 'cx'), { recursive: true });
  fs.writeFileSync(path.join(rig.dirs.workspace, 'cx', 'a.txt'), 'FILE-A-CONTENT\n');
  const s = await rig.call('session_start', { agent: 'codex', cwd: 'cx', task: 'look', context: [{ type: 'file', path: 'cx/a.txt' }] });
  await waitEnded(rig.client, s.sessionId);
  const blob = Buffer.from('BLOB-TEXT-CONTENT', 'utf8').toString('base64');
  const sent = await rig.call('session_send', { sessionId: s.sessionId, message: 'and this', context: [{ type: 'resource', resource: { uri: 'mem://b', blob } }] });
  expect(sent).toMatchObject({ delivered: true, resumed: true });
  const { last } = await follow(rig, s.sessionId);
  expect(last).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect(rig.model.requests).toHaveLength(2);
  expect(userText(rig.model.requests[0].body)).toContain('===== context 1 of 1: file ' + path.join(rig.dirs.workspace, 'cx', 'a.txt') + ' (lines 1-1 of 1) =====\nFILE-A-CONTENT\n');
  const second = userText(rig.model.requests[1].body);
  expect(second).toContain('and this');
  expect(second).toContain('===== context 1 of 1: resource mem://b =====\nBLOB-TEXT-CONTENT\n===== end of context 1 of 1 =====');
  expect((await readAll(rig.client, s.sessionId)).lines).toEqual(expect.arrayContaining(['FIRST', 'SECOND']));
});

test('refused with the reason, naming the item, before anything starts', async () => {
  const rig = await startRealRig([]);
  const ws = rig.dirs.workspace;
  fs.mkdirSync(path.join(ws, 'r'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'r', 'bin.dat'), Buffer.from([0x41, 0x00, 0x42]));
  const page = 'x'.repeat(99) + '\n';
  fs.writeFileSync(path.join(ws, 'r', 'big.txt'), page.repeat(2_000)); // 200,000 bytes, 2,000 lines
  const start = (context: unknown[]) => rig.callError('session_start', { agent: 'claude-code', cwd: 'r', task: 't', context });

  expect(await start([{ type: 'file', path: '/etc/hostname' }])).toMatch(/^context\[0\] \(file \/etc\/hostname\): .*outside/);
  expect(await start([{ type: 'file', path: 'r/nope.txt' }])).toMatch(/^context\[0\] \(file r\/nope.txt\): /);
  expect(await start([{ type: 'file', path: 'r/bin.dat' }])).toContain('context[0] (file r/bin.dat): "r/bin.dat" looks like a binary file');
  expect(await start([{ type: 'resource', resource: { uri: 'mem://x', blob: Buffer.from([0xff, 0x00, 0x01]).toString('base64') } }])).toContain('context[0] (resource mem://x): its blob is binary');
  expect(await start([{ type: 'resource', resource: { uri: 'mem://y', text: 'a\0b' } }])).toContain('contains a NUL byte');
  expect(await start([{ type: 'resource', resource: { uri: 'mem://z', blob: 'not base64!' } }])).toContain('context[0] (resource mem://z): its blob is not base64');
  const ghost = 'agentvisor://sessions/00000000-0000-4000-8000-000000000000/output';
  expect(await start([{ type: 'resource_link', uri: ghost, name: 'g' }])).toMatch(new RegExp(`^context\\[0\\] \\(resource link ${ghost}\\): `));
  expect(await start([{ type: 'resource_link', uri: 'https://example.com/a', name: 'a' }])).toContain('agentvisor cannot read this URI');
  expect(await start([{ type: 'resource_link', uri: 'file:///etc/hostname', name: 'h' }])).toMatch(/^context\[0\] \(file \/etc\/hostname\): .*outside/);
  // Three full pages of a big file: the total bound, not the page's.
  const big = { type: 'file', path: 'r/big.txt', maxBytes: 100_000 };
  expect(await start([big, { ...big, offset: 900 }, { ...big, offset: 1_800 }])).toContain(`context is more than ${Limits.maxContextChars} characters in all`);
  expect(await start([])).toContain('context must not be empty');
  expect(await start(Array.from({ length: Limits.maxContextItems + 1 }, () => ({ type: 'file', path: 'r/big.txt', maxLines: 1 })))).toContain(`context takes at most ${Limits.maxContextItems} items`);
  const raw = await rig.callError('session_send', { sessionId: '00000000-0000-4000-8000-000000000000', message: 'y', raw: true, context: [{ type: 'file', path: 'r/big.txt' }] });
  expect(raw).toContain('context is attached to a message: pass message, and not raw');
  expect((await rig.call('session_list', { status: 'all' })).sessions).toEqual([]);
  expect(rig.model.requests).toHaveLength(0);
});
