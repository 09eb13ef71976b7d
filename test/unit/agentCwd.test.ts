/**
 * The worker's cwd pin (#12 item 9) in a real process of its own (it chdirs, which the test
 * runner must not): the worker ends up in the checked directory itself, so a swap of the
 * path afterwards moves nothing, and it refuses a path that no longer leads to that directory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dirIdentityNoFollow } from '../../src/shared/dirHandle';

const AGENT_CWD = path.resolve(__dirname, '../../dist/src/worker/agentCwd.js');

let base: string;
let cwd: string;

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'agentcwd-')));
  cwd = path.join(base, 'proj');
  fs.mkdirSync(cwd);
});

afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/** Runs `body` in a fresh node process after `enterAgentCwd(cwd, identity)`; returns what it printed. */
function inWorker(identity: unknown, body: string): { out: string; err: string } {
  const script = `
    const fs = require('node:fs');
    const { enterAgentCwd } = require(${JSON.stringify(AGENT_CWD)});
    try { enterAgentCwd(${JSON.stringify(cwd)}, ${JSON.stringify(identity)}); }
    catch (e) { process.stdout.write('refused: ' + e.message); process.exit(0); }
    ${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: base });
  return { out: r.stdout, err: r.stderr };
}

test('the worker stands in the checked directory itself: swapping the path afterwards moves nothing', () => {
  const moved = path.join(base, 'proj.moved');
  const result = inWorker(
    dirIdentityNoFollow(cwd),
    `
    fs.renameSync(${JSON.stringify(cwd)}, ${JSON.stringify(moved)});
    fs.symlinkSync('/', ${JSON.stringify(cwd)});
    const child = require('node:child_process').spawnSync(process.execPath, ['-e', 'process.stdout.write(process.cwd())'], { encoding: 'utf8' });
    process.stdout.write(child.stdout);`,
  );
  expect(result).toEqual({ out: moved, err: '' });
});

test('refuses a cwd that is now a symlink, another directory, or gone', () => {
  const identity = dirIdentityNoFollow(cwd);
  fs.renameSync(cwd, path.join(base, 'proj.old'));
  fs.mkdirSync(cwd);
  expect(inWorker(identity, '').out).toMatch(/^refused: cwd .*\/proj was replaced/);
  fs.rmdirSync(cwd);
  fs.symlinkSync(path.join(base, 'proj.old'), cwd);
  expect(inWorker(identity, '').out).toMatch(/^refused: cwd .*\/proj was replaced/);
  fs.unlinkSync(cwd);
  expect(inWorker(identity, '').out).toMatch(/^refused: cwd .*\/proj no longer exists/);
});
