/**
 * read_file and list_directory through MCP against a workspace set up to
 * tempt them: a secret next to the workspace, a `ws-evil` sibling, symlinks
 * (to a file outside, to a directory outside, to /proc/self/environ — the
 * server's own environment holds AUTH_TOKEN — to a device, in a loop), a FIFO,
 * a Unix socket, a device node, a big file and a huge single line. Every
 * spelling of "outside" is refused the same way, names that only look like
 * tricks (encoded dots, `~`, look-alike Unicode) are just names, special files
 * are refused without blocking, and big files come back in bounded pages.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect } from '../helpers/server';
import { expectNormalSession, finish, startSecurityServer } from './support';

let server: RunningServer;
let client: Client;
let ws: string;
let outsideFile: string;
let outsideDir: string;
let evil: string;
let unixServer: net.Server;
let deviceMade = false;

const OUTSIDE = /outside the allowed roots/;
const MISSING = /no such file or directory/;

beforeAll(async () => {
  server = await startSecurityServer();
  client = await connect(server, 'http');
  ws = server.dirs.workspace;
  outsideFile = path.join(server.dirs.base, 'secret.txt');
  outsideDir = path.join(server.dirs.base, 'secret-dir');
  evil = `${ws}-evil`;
  fs.writeFileSync(outsideFile, 'TOP SECRET\n');
  fs.mkdirSync(outsideDir);
  fs.writeFileSync(path.join(outsideDir, 'inner.txt'), 'TOP SECRET TOO\n');
  fs.mkdirSync(evil);
  fs.writeFileSync(path.join(evil, 'x.txt'), 'EVIL SIBLING\n');

  fs.mkdirSync(path.join(ws, 'src/deep'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'src/a.txt'), 'alpha\nbeta\n');
  fs.writeFileSync(path.join(ws, 'src/deep/b.txt'), 'b\n');
  fs.symlinkSync(outsideFile, path.join(ws, 'link-file-out'));
  fs.symlinkSync(outsideDir, path.join(ws, 'link-dir-out'));
  fs.symlinkSync('../secret.txt', path.join(ws, 'link-relative-out'));
  fs.symlinkSync(path.join(ws, 'src'), path.join(ws, 'link-dir-in'));
  fs.symlinkSync('/proc/self/environ', path.join(ws, 'link-environ'));
  fs.symlinkSync('/dev/zero', path.join(ws, 'link-zero'));
  fs.symlinkSync('/', path.join(ws, 'link-root'));
  fs.symlinkSync(evil, path.join(ws, 'link-evil'));
  fs.symlinkSync('loop-b', path.join(ws, 'loop-a'));
  fs.symlinkSync('loop-a', path.join(ws, 'loop-b'));
  fs.symlinkSync('nowhere-at-all', path.join(ws, 'link-dangling'));
  expect(spawnSync('mkfifo', [path.join(ws, 'fifo')]).status).toBe(0);
  unixServer = net.createServer().listen(path.join(ws, 'sock'));
  await new Promise((r) => unixServer.once('listening', r));
  // A character device inside the workspace (root only; elsewhere the /dev/zero symlink stands in).
  deviceMade = spawnSync('mknod', [path.join(ws, 'zero'), 'c', '1', '5']).status === 0;
  // Names that look like tricks but are plain names in the workspace.
  for (const name of ['%2e%2e', '..%2f', '~', '．．', '\u2025', 'a\u202etxt.exe', 'ｓｒｃ']) fs.mkdirSync(path.join(ws, name));
  fs.writeFileSync(path.join(ws, '~', 'home.txt'), 'tilde dir\n');
  // A big file and a huge single line.
  fs.writeFileSync(path.join(ws, 'big.txt'), Array.from({ length: 200_000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n') + '\n');
  fs.writeFileSync(path.join(ws, 'one-line.txt'), 'y'.repeat(3 * 1024 * 1024));
  // A wide directory.
  fs.mkdirSync(path.join(ws, 'wide'));
  for (let i = 0; i < 5_100; i++) fs.writeFileSync(path.join(ws, 'wide', `f${i}`), '');
});

afterAll(async () => {
  unixServer?.close();
  await finish(server, [client]);
  fs.rmSync(evil, { recursive: true, force: true });
});

test('every spelling of a path outside the roots is refused, for both tools, without saying whether it exists', async () => {
  const base = server.dirs.base;
  const outside = [
    '..',
    '../',
    '../secret.txt',
    '../../',
    '/..',
    '/../..',
    '/',
    '/etc',
    '/etc/passwd',
    '/etc/shadow',
    '/root',
    '/tmp',
    'src/../../secret.txt',
    'src/../../../etc/passwd',
    './../secret.txt',
    'src/deep/../../../secret.txt',
    `${ws}/../secret.txt`,
    `${ws}/src/../../secret.txt`,
    `${ws}//..//secret.txt`,
    `${ws}/./../secret.txt`,
    outsideFile,
    outsideDir,
    `${outsideDir}/inner.txt`,
    `${base}/does-not-exist.txt`,
    '/nonexistent/dir/file',
    `${evil}`,
    `${evil}/x.txt`,
    `${ws}-evil/x.txt`,
    `${ws}/../ws-evil/x.txt`,
    '../ws-evil/x.txt',
    `${ws}e`,
    'link-file-out',
    'link-dir-out',
    'link-dir-out/inner.txt',
    'link-relative-out',
    'link-environ',
    'link-zero',
    'link-root',
    'link-root/etc/passwd',
    'link-evil/x.txt',
    'link-dir-out/not-there',
    '/proc/self/environ',
    '/proc/self/cmdline',
    '/proc/self/cwd',
    '/proc/self/cwd/state/logs/agentvisor.log',
    '/proc/self/root/etc/passwd',
    '/proc/self/fd/0',
    '/proc/1/root/etc/passwd',
    '/dev/zero',
    '/dev/stdin',
    '/dev/tty',
    '/sys/kernel',
    `${server.dirs.stateDir}/journal.db`,
    `${server.dirs.stateDir}/logs`,
    `/proc/self/root${outsideFile}`,
  ];
  for (const p of outside) {
    for (const tool of ['read_file', 'list_directory']) {
      const err = await callError(client, tool, { path: p });
      expect({ tool, p, err: OUTSIDE.test(err) }).toEqual({ tool, p, err: true });
      expect(err).not.toMatch(/TOP SECRET|EVIL SIBLING|AUTH_TOKEN/);
    }
  }
});

test('paths that resolve inside are served, however they are spelled', async () => {
  const inside = [
    'src/a.txt',
    './src/a.txt',
    'src//a.txt',
    './/src///a.txt',
    'src/./a.txt',
    'src/deep/../a.txt',
    `${ws}/src/a.txt`,
    `${ws}//src/./a.txt`,
    `${ws}/src/deep/../../src/a.txt`,
    'link-dir-in/a.txt',
    `/proc/self/root${ws}/src/a.txt`,
  ];
  for (const p of inside) {
    const page = await call(client, 'read_file', { path: p });
    expect({ p, lines: page.lines, real: page.path }).toEqual({ p, lines: ['alpha', 'beta'], real: path.join(ws, 'src/a.txt') });
  }
  for (const p of ['.', './', 'src/', 'src/.', `${ws}/`, 'link-dir-in', 'link-dir-in/']) {
    const listing = await call(client, 'list_directory', { path: p });
    expect({ p, ok: Array.isArray(listing.entries) && listing.entries.length > 0 }).toEqual({ p, ok: true });
  }
});

test('names that look like tricks are literal names inside the workspace', async () => {
  const literal: Array<[string, RegExp | 'dir']> = [
    ['%2e%2e', 'dir'],
    ['%2e%2e/secret.txt', MISSING],
    ['..%2fsecret.txt', MISSING],
    ['..%2f', 'dir'],
    ['%2e%2e%2fsecret.txt', MISSING],
    ['..\\secret.txt', MISSING],
    ['..\\..\\etc\\passwd', MISSING],
    ['~', 'dir'],
    ['~/.bashrc', MISSING],
    ['~root/.ssh/id_rsa', MISSING],
    ['$HOME/.bashrc', MISSING],
    ['${HOME}', MISSING],
    ['`id`', MISSING],
    ['$(id)', MISSING],
    ['file:///etc/passwd', MISSING],
    ['．．', 'dir'],
    ['．．/secret.txt', MISSING],
    ['\u2025', 'dir'],
    ['\u2025/secret.txt', MISSING],
    ['ｓｒｃ', 'dir'],
    ['ｓｒｃ/a.txt', MISSING],
    ['a\u202etxt.exe', 'dir'],
    ['src/a.txt\u200b', MISSING],
    ['src/a.txt\n', MISSING],
    ['src/a.txt ', MISSING],
    [' src/a.txt', MISSING],
    ['src/A.TXT', MISSING],
    ['src/a.txt\r', MISSING],
    ['src/a.txt%00.png', MISSING],
    ['\\\\?\\C:\\Windows', MISSING],
    ['NUL', MISSING],
    ['src/\ud800', MISSING],
    ['...', MISSING],
    ['.../secret.txt', MISSING],
    ['src/..../a.txt', MISSING],
  ];
  for (const [p, expected] of literal) {
    if (expected === 'dir') {
      const listing = await call(client, 'list_directory', { path: p });
      expect({ p, real: listing.path }).toEqual({ p, real: path.join(ws, p) });
    } else {
      const err = await callError(client, 'read_file', { path: p });
      expect({ p, ok: expected.test(err) }).toEqual({ p, ok: true });
    }
  }
  expect((await call(client, 'read_file', { path: '~/home.txt' })).lines).toEqual(['tilde dir']);
});

test('NUL bytes, loops, dangling links, empty and over-long paths get clear errors', async () => {
  for (const p of ['src/a.txt\u0000.png', '\u0000', `${ws}/src/a.txt\u0000`, '../\u0000secret.txt', `\u0000${outsideFile}`]) {
    expect(await callError(client, 'read_file', { path: p })).toMatch(/NUL/);
    expect(await callError(client, 'list_directory', { path: p })).toMatch(/NUL/);
  }
  expect(await callError(client, 'read_file', { path: 'loop-a' })).toMatch(/symbolic links|ELOOP/);
  expect(await callError(client, 'read_file', { path: 'link-dangling' })).toMatch(MISSING);
  expect(await callError(client, 'read_file', { path: '' })).toMatch(/path/);
  expect(await callError(client, 'read_file', { path: 'n'.repeat(300) })).toMatch(/too long|ENAMETOOLONG/);
  expect(await callError(client, 'read_file', { path: 'a/'.repeat(2_000) })).toMatch(MISSING);
  expect(await callError(client, 'read_file', { path: '../'.repeat(1_300) + 'etc/passwd' })).toMatch(OUTSIDE);
  expect(await callError(client, 'read_file', { path: 'x'.repeat(4_097) })).toMatch(/path.*4096|4096.*path|Too big/i);
  expect(await callError(client, 'read_file', { path: 'src' })).toMatch(/is a directory/);
  expect(await callError(client, 'list_directory', { path: 'src/a.txt' })).toMatch(/not a directory|ENOTDIR/i);
});

test('FIFOs, sockets and devices are refused at once, never opened', async () => {
  const t0 = Date.now();
  expect(await callError(client, 'read_file', { path: 'fifo' })).toMatch(/FIFO/);
  expect(await callError(client, 'read_file', { path: 'sock' })).toMatch(/socket/);
  if (deviceMade) expect(await callError(client, 'read_file', { path: 'zero' })).toMatch(/character device/);
  else expect(await callError(client, 'read_file', { path: 'link-zero' })).toMatch(OUTSIDE);
  expect(Date.now() - t0).toBeLessThan(3_000);
  const listing = await call(client, 'list_directory', { path: '.' });
  const byName = Object.fromEntries(listing.entries.map((e: any) => [e.name, e]));
  expect(byName.fifo.type).toBe('other');
  expect(byName.sock.type).toBe('other');
  // Nobody holds the FIFO open for reading: a non-blocking writer finds no reader (ENXIO).
  expect(() => fs.openSync(path.join(ws, 'fifo'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)).toThrow(/ENXIO/);
});

test('symlinked entries are listed with their target and never followed, even recursively', async () => {
  const listing = await call(client, 'list_directory', { path: '.', recursive: true });
  const byName = Object.fromEntries(listing.entries.map((e: any) => [e.name, e]));
  expect(byName['link-dir-out']).toMatchObject({ type: 'symlink', target: outsideDir });
  expect(byName['link-environ']).toMatchObject({ type: 'symlink', target: '/proc/self/environ' });
  expect(byName['link-root']).toMatchObject({ type: 'symlink', target: '/' });
  expect(byName['link-dir-in']).toMatchObject({ type: 'symlink' });
  const names: string[] = listing.entries.map((e: any) => e.name as string);
  expect(names.filter((n) => /^link-[a-z-]+\//.test(n))).toEqual([]);
  expect(names.some((n) => n.includes('inner.txt') || n.includes('passwd'))).toBe(false);
  expect(JSON.stringify(listing)).not.toMatch(/TOP SECRET|EVIL SIBLING/);
});

test('big files and big directories come back in bounded pages', async () => {
  const first = await call(client, 'read_file', { path: 'big.txt' });
  expect(first.hasMore).toBe(true);
  expect(first.lines[0]).toMatch(/^line 0 /);
  expect(JSON.stringify(first).length).toBeLessThan(300_000);
  const far = await call(client, 'read_file', { path: 'big.txt', offset: 199_990, maxLines: 100 });
  expect(far.lines).toHaveLength(10);
  expect(far.lines[9]).toMatch(/^line 199999 /);
  expect(far.hasMore).toBe(false);
  const past = await call(client, 'read_file', { path: 'big.txt', offset: Number.MAX_SAFE_INTEGER });
  expect(past.lines).toEqual([]);
  const huge = await call(client, 'read_file', { path: 'one-line.txt', maxBytes: 10_000 });
  expect(huge.lines.join('').length).toBeLessThanOrEqual(10_000);
  expect(huge.truncated).toBeDefined();
  const wide = await call(client, 'list_directory', { path: 'wide' });
  expect(wide.truncated).toBe(true);
  expect(wide.entries.length).toBeLessThanOrEqual(wide.maxEntries);
});

test('after all that, the server still serves a normal session end to end', async () => {
  await expectNormalSession(client);
});
