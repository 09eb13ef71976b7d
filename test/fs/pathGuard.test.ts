import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isInside, resolveCwd, resolveInsideRoots, resolveInsideRootsSync } from '../../src/supervisor/fs/pathGuard';

// Layout, all under one mkdtemp dir (realpath'ed so expectations match what the guard returns):
//   ws/a.txt, ws/sub/b.txt, ws/link-in -> ws/a.txt, ws/link-out -> outside/secret.txt,
//   ws/link-dir-out -> outside, ws/dangling -> outside/missing
//   ws-evil/x.txt (a sibling whose name starts with "ws"), outside/secret.txt,
//   other/c.txt (a second root), ws-alias -> ws (a root given through a symlink)
let base: string;
let ws: string;
let evil: string;
let outside: string;
let other: string;
let alias: string;

beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pathguard-')));
  ws = path.join(base, 'ws');
  evil = path.join(base, 'ws-evil');
  outside = path.join(base, 'outside');
  other = path.join(base, 'other');
  alias = path.join(base, 'ws-alias');
  for (const dir of [ws, path.join(ws, 'sub'), evil, outside, other]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(ws, 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(ws, 'sub', 'b.txt'), 'b\n');
  fs.writeFileSync(path.join(evil, 'x.txt'), 'evil\n');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  fs.writeFileSync(path.join(other, 'c.txt'), 'c\n');
  fs.symlinkSync(path.join(ws, 'a.txt'), path.join(ws, 'link-in'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(ws, 'link-out'));
  fs.symlinkSync(outside, path.join(ws, 'link-dir-out'));
  fs.symlinkSync(path.join(outside, 'missing'), path.join(ws, 'dangling'));
  fs.symlinkSync(ws, alias);
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

function outsideMessage(requested: string, roots: string[]): string {
  return `path "${requested}" is outside the allowed roots (${roots.join(', ')}). Use a path inside WORKSPACE_DIR or an active session's cwd.`;
}

describe('isInside', () => {
  it('judges containment by whole path segments', () => {
    expect(isInside('/ws', '/ws')).toBe(true);
    expect(isInside('/ws/a/b', '/ws')).toBe(true);
    expect(isInside('/ws/..foo', '/ws')).toBe(true);
    expect(isInside('/ws-evil', '/ws')).toBe(false);
    expect(isInside('/ws-evil/x', '/ws')).toBe(false);
    expect(isInside('/', '/ws')).toBe(false);
    expect(isInside('/other', '/ws')).toBe(false);
  });
});

describe('resolveInsideRoots', () => {
  it('resolves relative paths against the first root (WORKSPACE_DIR)', async () => {
    await expect(resolveInsideRoots('a.txt', [ws, other])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
    await expect(resolveInsideRoots('sub/b.txt', [ws])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'sub', 'b.txt') });
    await expect(resolveInsideRoots('.', [ws])).resolves.toEqual({ ok: true, realPath: ws });
  });

  it('does not resolve relative paths against the other roots', async () => {
    await expect(resolveInsideRoots('c.txt', [ws, other])).resolves.toEqual({
      ok: false,
      error: 'no such file or directory: "c.txt". Check the name with list_directory.',
    });
  });

  it('accepts absolute paths inside any root, including a root itself', async () => {
    await expect(resolveInsideRoots(path.join(other, 'c.txt'), [ws, other])).resolves.toEqual({ ok: true, realPath: path.join(other, 'c.txt') });
    await expect(resolveInsideRoots(ws, [ws])).resolves.toEqual({ ok: true, realPath: ws });
    await expect(resolveInsideRoots(ws + '/', [ws])).resolves.toEqual({ ok: true, realPath: ws });
  });

  it('refuses a sibling directory that merely shares the prefix', async () => {
    const requested = path.join(evil, 'x.txt');
    await expect(resolveInsideRoots(requested, [ws])).resolves.toEqual({ ok: false, error: outsideMessage(requested, [ws]) });
    await expect(resolveInsideRoots('../ws-evil/x.txt', [ws])).resolves.toEqual({ ok: false, error: outsideMessage('../ws-evil/x.txt', [ws]) });
  });

  it('refuses .. traversal out of the root', async () => {
    for (const requested of ['..', '../outside/secret.txt', 'sub/../../outside/secret.txt', '/etc/passwd']) {
      await expect(resolveInsideRoots(requested, [ws])).resolves.toEqual({ ok: false, error: outsideMessage(requested, [ws]) });
    }
  });

  it('accepts .. that stays inside', async () => {
    await expect(resolveInsideRoots('sub/../a.txt', [ws])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
  });

  it('refuses NUL bytes and empty paths', async () => {
    const nul = await resolveInsideRoots('a.txt\0.png', [ws]);
    expect(nul).toEqual({ ok: false, error: 'path contains a NUL byte, which no file name can contain. Remove it.' });
    const empty = await resolveInsideRoots('', [ws]);
    expect(empty.ok).toBe(false);
    expect(!empty.ok && empty.error).toMatch(/^path is empty\./);
  });

  it('refuses a symlink inside the workspace that points outside', async () => {
    await expect(resolveInsideRoots('link-out', [ws])).resolves.toEqual({ ok: false, error: outsideMessage('link-out', [ws]) });
    await expect(resolveInsideRoots('link-dir-out/secret.txt', [ws])).resolves.toEqual({
      ok: false,
      error: outsideMessage('link-dir-out/secret.txt', [ws]),
    });
    await expect(resolveInsideRoots('link-dir-out', [ws])).resolves.toEqual({ ok: false, error: outsideMessage('link-dir-out', [ws]) });
  });

  it('follows a symlink that stays inside and returns the real target', async () => {
    await expect(resolveInsideRoots('link-in', [ws])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
  });

  it('realpaths the roots too', async () => {
    // The root is given through a symlink; requests through either name resolve to the real file.
    await expect(resolveInsideRoots(path.join(alias, 'a.txt'), [alias])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
    await expect(resolveInsideRoots(path.join(ws, 'a.txt'), [alias])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
    await expect(resolveInsideRoots('a.txt', [alias])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
    // The message lists the real root, which is what containment was judged against.
    await expect(resolveInsideRoots('../outside', [alias])).resolves.toEqual({ ok: false, error: outsideMessage('../outside', [ws]) });
  });

  it('reports a missing file inside the roots as ENOENT', async () => {
    await expect(resolveInsideRoots('nope.txt', [ws])).resolves.toEqual({
      ok: false,
      error: 'no such file or directory: "nope.txt". Check the name with list_directory.',
    });
    await expect(resolveInsideRoots('a.txt/child', [ws])).resolves.toEqual({
      ok: false,
      error: 'not a directory: a component of "a.txt/child" is a file, not a directory.',
    });
  });

  it('refuses a dangling symlink (reported as missing: there is nothing to read)', async () => {
    await expect(resolveInsideRoots('dangling', [ws])).resolves.toEqual({
      ok: false,
      error: 'no such file or directory: "dangling". Check the name with list_directory.',
    });
  });

  it('reports a missing path outside the roots as outside, not as missing', async () => {
    // Otherwise the error text would reveal what exists outside the sandbox.
    await expect(resolveInsideRoots('../outside/missing', [ws])).resolves.toEqual({ ok: false, error: outsideMessage('../outside/missing', [ws]) });
    await expect(resolveInsideRoots('/no/such/dir/x', [ws])).resolves.toEqual({ ok: false, error: outsideMessage('/no/such/dir/x', [ws]) });
  });

  it('explains missing roots', async () => {
    await expect(resolveInsideRoots('a.txt', [])).resolves.toEqual({
      ok: false,
      error: 'no allowed roots are configured, so no path can be accessed. Set WORKSPACE_DIR.',
    });
    const missing = path.join(base, 'gone');
    const relative = await resolveInsideRoots('a.txt', [missing, ws]);
    expect(relative.ok).toBe(false);
    expect(!relative.ok && relative.error).toContain(`WORKSPACE_DIR "${missing}" does not exist`);
    // A missing first root does not stop absolute paths inside the others.
    await expect(resolveInsideRoots(path.join(ws, 'a.txt'), [missing, ws])).resolves.toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
  });

  it('gives the same answers from the sync driver used by the workers', () => {
    expect(resolveInsideRootsSync('a.txt', [ws])).toEqual({ ok: true, realPath: path.join(ws, 'a.txt') });
    expect(resolveInsideRootsSync('link-out', [ws])).toEqual({ ok: false, error: outsideMessage('link-out', [ws]) });
    expect(resolveInsideRootsSync('nope', [ws])).toEqual({ ok: false, error: 'no such file or directory: "nope". Check the name with list_directory.' });
  });
});

describe('resolveCwd', () => {
  it('returns an existing directory as its realpath', async () => {
    await expect(resolveCwd('sub', ws)).resolves.toEqual({ ok: true, path: path.join(ws, 'sub') });
    await expect(resolveCwd(path.join(ws, 'sub'), alias)).resolves.toEqual({ ok: true, path: path.join(ws, 'sub') });
    await expect(resolveCwd('.', ws)).resolves.toEqual({ ok: true, path: ws });
  });

  it('accepts a directory that does not exist yet, without creating it', async () => {
    await expect(resolveCwd('new/deep/dir', ws)).resolves.toEqual({ ok: true, path: path.join(ws, 'new', 'deep', 'dir') });
    expect(fs.existsSync(path.join(ws, 'new'))).toBe(false);
    // The existing part is realpath'ed even when reached through an aliased workspace.
    await expect(resolveCwd(path.join(alias, 'sub', 'later'), alias)).resolves.toEqual({ ok: true, path: path.join(ws, 'sub', 'later') });
  });

  it('refuses escapes, including through a symlink in the existing part', async () => {
    const escape = await resolveCwd('../outside/newdir', ws);
    expect(escape).toEqual({ ok: false, error: `cwd "../outside/newdir" is outside WORKSPACE_DIR (${ws}). Use a directory inside it.` });
    const viaLink = await resolveCwd('link-dir-out/newdir', ws);
    expect(viaLink).toEqual({ ok: false, error: `cwd "link-dir-out/newdir" is outside WORKSPACE_DIR (${ws}). Use a directory inside it.` });
    const sibling = await resolveCwd(path.join(evil, 'new'), ws);
    expect(sibling.ok).toBe(false);
  });

  it('refuses files, paths under files, NUL and empty', async () => {
    await expect(resolveCwd('a.txt', ws)).resolves.toEqual({ ok: false, error: 'cwd "a.txt" exists but is not a directory.' });
    await expect(resolveCwd('a.txt/sub', ws)).resolves.toEqual({
      ok: false,
      error: 'not a directory: a component of "a.txt/sub" is a file, not a directory.',
    });
    await expect(resolveCwd('x\0y', ws)).resolves.toEqual({ ok: false, error: 'cwd contains a NUL byte, which no file name can contain. Remove it.' });
    const empty = await resolveCwd('', ws);
    expect(empty.ok).toBe(false);
  });

  it('refuses when WORKSPACE_DIR itself is missing', async () => {
    const missing = path.join(base, 'gone');
    await expect(resolveCwd('x', missing)).resolves.toEqual({ ok: false, error: `WORKSPACE_DIR "${missing}" does not exist or is unreadable. Create it first.` });
  });
});
