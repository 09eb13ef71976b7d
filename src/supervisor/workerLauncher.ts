/**
 * Starting a worker, and nothing else (supervising it is sessionManager's job).
 *
 * A worker must outlive the supervisor: pm2 and systemd stop a service by
 * killing its whole process tree, found by parent pid. So the worker is
 * double-forked — `setsid --fork` starts it in a new session and exits at once,
 * leaving init as the worker's parent — and is never our descendant. Where
 * util-linux's setsid is missing, a tiny Node launcher does the same fork-and-exit.
 * The worker reports readiness on an extra pipe (fd 3) and then closes it, so
 * nothing but its socket ties it to us.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CWD_REFUSED_PREFIX } from '../shared/dirHandle';
import { findOnPath } from '../shared/findExecutable';
import { WorkerReady } from '../shared/protocol';

export type { WorkerReady } from '../shared/protocol';

/**
 * `npm run dev` runs the sources under tsx: workers then start from source too, so a change reaches
 * new workers. Tests load this file as TypeScript through ts-jest (no tsx): they start the compiled
 * workers, as a user's install does.
 */
const FROM_SOURCE = __filename.endsWith('.ts') && process.execArgv.some((a) => a.includes('tsx'));

/** The worker's entry: compiled dist/src/worker/main.js, or main.ts from source under `npm run dev`. */
export function workerEntry(): string {
  if (FROM_SOURCE) return path.join(__dirname, '../worker/main.ts');
  const here = __filename.endsWith('.ts') ? path.join(__dirname, '../../dist/src/supervisor') : __dirname;
  return path.join(here, '../worker/main.js');
}

/** Node flags for a worker or its launcher: tsx's loader when running from source. */
function nodeFlags(): string[] {
  return FROM_SOURCE ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
}

const SETSID = findOnPath('setsid');

export interface LaunchOptions {
  specPath: string;
  /** Worker stderr goes here, for crashes before its logger is up. */
  stderrPath: string;
  readyTimeoutMs: number;
}

export function launchWorker(opts: LaunchOptions): Promise<WorkerReady> {
  const node = process.execPath;
  const workerArgs = [...nodeFlags(), workerEntry(), '--spec', opts.specPath];
  const launcher = path.join(path.dirname(workerEntry()), FROM_SOURCE ? 'forkLauncher.ts' : 'forkLauncher.js');
  const [command, args] = SETSID ? [SETSID, ['--fork', node, ...workerArgs]] : [node, [...nodeFlags(), launcher, node, ...workerArgs]];
  const errFd = fs.openSync(opts.stderrPath, 'a', 0o600);
  return new Promise<WorkerReady>((resolve, reject) => {
    let settled = false;
    let buf = '';
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', errFd, 'pipe'],
      detached: true,
      // The worker's own environment: nothing of ours it does not need (it never sees AUTH_TOKEN).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: process.env.NODE_ENV ?? 'production' },
    });
    fs.closeSync(errFd);
    const finish = (err: Error | null, ready?: WorkerReady) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pipe.destroy();
      if (err) reject(err);
      else resolve(ready!);
    };
    const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    const timer = setTimeout(() => finish(new Error(`worker did not report ready within ${opts.readyTimeoutMs} ms (see ${opts.stderrPath})`)), opts.readyTimeoutMs);
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      try {
        finish(null, WorkerReady.parse(JSON.parse(buf.slice(0, nl))));
      } catch (err) {
        finish(new Error(`worker sent a malformed ready line (${(err as Error).message})`));
      }
    });
    pipe.on('end', () => finish(new Error(cwdRefusal(opts.stderrPath) ?? `worker exited before it was ready (see ${opts.stderrPath})`)));
    pipe.on('error', () => undefined); // 'end' or the timer reports it
    child.on('error', (err) => finish(new Error(`could not start worker: ${err.message}`)));
    // The intermediate exits at once; not waiting on it keeps it from holding our event loop.
    child.unref();
  });
}

/** Bytes of a worker's stderr file read back for a refusal line: it is the last thing written. */
const REFUSAL_TAIL_BYTES = 4096;

/** The reason a worker refused its cwd (agentCwd.ts), if that is why it exited; nothing else from stderr. */
function cwdRefusal(stderrPath: string): string | null {
  try {
    const fd = fs.openSync(stderrPath, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, REFUSAL_TAIL_BYTES));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      const last = buf.toString('utf8').trimEnd().split('\n').pop() ?? '';
      return last.startsWith(CWD_REFUSED_PREFIX) ? last.slice(CWD_REFUSED_PREFIX.length) : null;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null; // no stderr file to read: the generic message points at it
  }
}
