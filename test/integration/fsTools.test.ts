/** read_file and list_directory over MCP: inside the sandbox they work, outside they are refused. */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect, startServer } from '../helpers/server';

let server: RunningServer;
let client: Client;
let outside: string;

beforeAll(async () => {
  server = await startServer();
  client = await connect(server, 'http');
  const ws = server.dirs.workspace;
  fs.mkdirSync(path.join(ws, 'src/deep/er'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'src/a.txt'), Array.from({ length: 50 }, (_, i) => `row ${i}`).join('\n') + '\n');
  fs.writeFileSync(path.join(ws, 'src/deep/er/b.txt'), 'b\n');
  outside = path.join(server.dirs.base, 'secret.txt');
  fs.writeFileSync(outside, 'top secret\n');
  fs.symlinkSync(outside, path.join(ws, 'src/link-out'));
  fs.mkdirSync(`${ws}-evil`);
  fs.writeFileSync(`${ws}-evil/x.txt`, 'evil\n');
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(server.dirs.base, { recursive: true, force: true });
  fs.rmSync(`${server.dirs.workspace}-evil`, { recursive: true, force: true });
});

test('read_file pages a file inside the workspace', async () => {
  const page = await call(client, 'read_file', { path: 'src/a.txt', maxLines: 20 });
  expect(page.lines).toHaveLength(20);
  expect(page.lines[0]).toBe('row 0');
  expect(page.hasMore).toBe(true);
  const next = await call(client, 'read_file', { path: path.join(server.dirs.workspace, 'src/a.txt'), offset: page.nextOffset, maxLines: 100 });
  expect(next.lines[0]).toBe('row 20');
  expect(next.lines.at(-1)).toBe('row 49');
  expect(next.hasMore).toBe(false);
});

test('list_directory lists, walks to depth 3, and shows a symlink without following it', async () => {
  const flat = await call(client, 'list_directory', { path: 'src' });
  const names = flat.entries.map((e: any) => `${e.name}:${e.type}`);
  expect(names).toEqual(expect.arrayContaining(['a.txt:file', 'deep:directory', 'link-out:symlink']));
  expect(flat.entries.find((e: any) => e.name === 'link-out').target).toBe(outside);
  const deep = await call(client, 'list_directory', { path: '.', recursive: true });
  expect(deep.entries.map((e: any) => e.name)).toEqual(expect.arrayContaining(['src/deep/er']));
  expect(deep.maxDepth).toBe(3);
});

test('paths outside the workspace, through symlinks, or in a sibling prefix dir are refused', async () => {
  expect(await callError(client, 'read_file', { path: outside })).toMatch(/outside the allowed roots/);
  expect(await callError(client, 'read_file', { path: '../secret.txt' })).toMatch(/outside the allowed roots/);
  expect(await callError(client, 'read_file', { path: 'src/link-out' })).toMatch(/outside the allowed roots/);
  expect(await callError(client, 'read_file', { path: `${server.dirs.workspace}-evil/x.txt` })).toMatch(/outside the allowed roots/);
  expect(await callError(client, 'list_directory', { path: '/etc' })).toMatch(/outside the allowed roots/);
  expect(await callError(client, 'read_file', { path: 'src/a.txt\u0000.png' })).toMatch(/NUL/);
  expect(await callError(client, 'read_file', { path: 'src/nope.txt' })).toMatch(/no such file/);
  expect(await callError(client, 'read_file', { path: 'src/a.txt', maxLines: 0 })).toMatch(/maxLines/);
});
