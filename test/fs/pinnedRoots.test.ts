/**
 * Session cwds as pinned roots (#12 item 10) and the pin itself (items 9 and 10), in process:
 * a root with a recorded device + inode counts only while its path still leads to that very
 * directory, and prepareCwd refuses a cwd that is not (or no longer) the checked directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dirIdentityNoFollow } from '../../src/shared/dirHandle';
import { prepareCwd } from '../../src/supervisor/fs/cwdPin';
import { type AllowedRoot, resolveInsideRoots, resolveInsideRootsSync } from '../../src/supervisor/fs/pathGuard';
import { SessionRoots } from '../../src/supervisor/fs/sessionRoots';
import { wireSpec } from '../support/workerSpec';

let base: string;
let ws: string;
let cwd: string;

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pinned-')));
  ws = path.join(base, 'ws');
  cwd = path.join(ws, 'proj');
  fs.mkdirSync(cwd, { recursive: true });
  fs.writeFileSync(path.join(cwd, 'a.txt'), 'a\n');
  fs.mkdirSync(path.join(base, 'outside'));
  fs.writeFileSync(path.join(base, 'outside', 'secret.txt'), 'secret\n');
});

afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

function pinned(p: string): AllowedRoot {
  const id = dirIdentityNoFollow(p);
  if (!id) throw new Error(`${p} is not a directory`);
  return { path: p, ...id };
}

describe('pinned roots', () => {
  it('accept paths under the recorded directory while it is in place', async () => {
    const roots = [pinned(cwd)];
    expect(resolveInsideRootsSync(path.join(cwd, 'a.txt'), roots)).toEqual({ ok: true, realPath: path.join(cwd, 'a.txt') });
    await expect(resolveInsideRoots(path.join(cwd, 'a.txt'), roots)).resolves.toEqual({ ok: true, realPath: path.join(cwd, 'a.txt') });
  });

  it('are dropped once the path is a symlink to /, so / does not become a root', async () => {
    const roots: AllowedRoot[] = [path.join(base, 'elsewhere-not-created'), pinned(cwd)];
    fs.renameSync(cwd, path.join(ws, 'proj.moved'));
    fs.symlinkSync('/', cwd);
    for (const result of [resolveInsideRootsSync('/etc/passwd', roots), await resolveInsideRoots('/etc/passwd', roots)]) {
      expect(result).toEqual({ ok: false, error: expect.stringMatching(/^none of the allowed roots/) });
    }
    // With the workspace as a plain root beside it, / is still not reachable.
    expect(resolveInsideRootsSync('/etc/passwd', [ws, ...roots])).toEqual({ ok: false, error: expect.stringMatching(/outside the allowed roots \(\S+\/ws\)/) });
  });

  it('are dropped when a different directory now sits at the path, or the path moved under a symlinked parent', () => {
    const root = pinned(cwd);
    fs.renameSync(cwd, path.join(ws, 'proj.old'));
    fs.mkdirSync(cwd);
    expect(resolveInsideRootsSync(path.join(cwd, 'x'), [root])).toEqual({ ok: false, error: expect.stringMatching(/^none of the allowed roots/) });
    // Same directory, but reached through a symlinked parent: its real path changed, so it no longer counts either.
    fs.rmdirSync(cwd);
    fs.renameSync(path.join(ws, 'proj.old'), path.join(base, 'outside', 'proj'));
    fs.rmSync(ws, { recursive: true });
    fs.symlinkSync(path.join(base, 'outside'), ws);
    expect(resolveInsideRootsSync(path.join(cwd, 'a.txt'), [root])).toEqual({ ok: false, error: expect.stringMatching(/^none of the allowed roots/) });
  });
});

describe('prepareCwd', () => {
  it('creates a missing cwd and records the directory it opened', () => {
    const fresh = path.join(ws, 'new', 'deeper');
    const result = prepareCwd(fresh, ws, null);
    expect(result).toEqual({ ok: true, identity: dirIdentityNoFollow(fresh) });
  });

  it('refuses a cwd that is a symlink by the time it is opened, even to a directory inside', () => {
    fs.symlinkSync(cwd, path.join(ws, 'alias'));
    fs.symlinkSync('/', path.join(ws, 'to-root'));
    for (const name of ['alias', 'to-root']) {
      expect(prepareCwd(path.join(ws, name), ws, null)).toEqual({ ok: false, error: expect.stringMatching(/changed while it was being checked/) });
    }
  });

  it('refuses a cwd whose parent became a symlink, and one outside the workspace', () => {
    fs.renameSync(cwd, path.join(base, 'outside', 'proj'));
    fs.symlinkSync(path.join(base, 'outside'), path.join(ws, 'via'));
    expect(prepareCwd(path.join(ws, 'via', 'proj'), ws, null)).toEqual({ ok: false, error: expect.stringMatching(/changed while it was being checked/) });
    expect(prepareCwd(path.join(base, 'outside'), ws, null)).toEqual({ ok: false, error: expect.stringMatching(/changed while it was being checked/) });
  });

  it('refuses the forbidden directory (STATE_DIR) and anything inside it, creating nothing there', () => {
    const state = path.join(ws, 'state');
    fs.mkdirSync(state);
    const refused = { ok: false, error: expect.stringMatching(/agentvisor's own state directory or inside it \(STATE_DIR/) };
    expect(prepareCwd(state, ws, state)).toEqual(refused);
    expect(prepareCwd(path.join(state, 'sessions', 'new'), ws, state)).toEqual(refused);
    expect(fs.existsSync(path.join(state, 'sessions'))).toBe(false);
    // Named by a path through a symlink to it, resolved to its real path.
    fs.symlinkSync(state, path.join(base, 'state-link'));
    expect(prepareCwd(state, ws, path.join(base, 'state-link'))).toEqual(refused);
    // Beside it, or above it (STATE_DIR stays hidden under the cwd's bind), is fine.
    expect(prepareCwd(cwd, ws, state)).toMatchObject({ ok: true });
    expect(prepareCwd(ws, ws, state)).toMatchObject({ ok: true });
  });
});

describe('SessionRoots', () => {
  it("gives each live session's cwd with the identity from its spec, and no root where that cannot be read or is not a spec", () => {
    const id = dirIdentityNoFollow(cwd)!;
    const dirOf = (name: string, spec: string | null) => {
      const dir = path.join(base, 'sessions', name);
      fs.mkdirSync(dir, { recursive: true });
      if (spec !== null) fs.writeFileSync(path.join(dir, 'spec.json'), spec);
      return dir;
    };
    const sessions = [
      { id: 'pinned', cwd, session_dir: dirOf('pinned', JSON.stringify(wireSpec({ cwd, cwdIdentity: id }))) },
      { id: 'old-spec', cwd, session_dir: dirOf('old-spec', JSON.stringify(wireSpec({ cwd, cwdIdentity: null }))) },
      // An identity in a file the contract does not accept is not trusted (read without the validator, it was).
      { id: 'not-a-spec', cwd, session_dir: dirOf('not-a-spec', JSON.stringify({ cwd, cwdIdentity: id })) },
      { id: 'corrupt', cwd, session_dir: dirOf('corrupt', '{"cwd": "') },
      { id: 'missing', cwd, session_dir: dirOf('missing', null) },
    ];
    expect(new SessionRoots().rootsOf(sessions)).toEqual([{ path: cwd, ...id }]);
  });
});
