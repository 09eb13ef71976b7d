/**
 * agentvisor as installed where node-pty did not build (issue 19 item 3): a copy of the built
 * dist/ and package.json beside a node_modules of symlinks to every installed package but node-pty.
 * Node resolves `require('node-pty')` from the copy's own directory, finds nothing and throws
 * "Cannot find module 'node-pty'", exactly as on such a host; nothing in agentvisor is told to
 * pretend. Other packages resolve through their symlinks to the real ones (and their own deps).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/server';

export interface InstallWithoutPty {
  /** The copy's CLI (dist/src/cli.js). */
  cli: string;
  dir: string;
  remove(): void;
}

export function installWithoutNodePty(): InstallWithoutPty {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-nopty-'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  const real = fs.realpathSync(path.join(ROOT, 'node_modules'));
  for (const name of fs.readdirSync(real)) {
    if (name === 'node-pty') continue;
    fs.symlinkSync(path.join(real, name), path.join(modules, name));
  }
  return { cli: path.join(dir, 'dist/src/cli.js'), dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
