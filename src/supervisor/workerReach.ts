/**
 * Reaching a worker whose socket file is gone (deleted by hand, a clean-up of
 * STATE_DIR): if the worker process is alive, SIGHUP asks it to listen again,
 * which re-creates the file; the supervisor waits for the file to appear (a
 * directory watch, not a sleep) and connects. A live agent is never given up
 * for want of a socket file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isSameProcess } from '../shared/procInfo';
import { WorkerClient } from './workerClient';

export const WorkerReachTimeouts = {
  /** A worker told to listen again does so in milliseconds; past this it is presumed unable to. */
  socketBackMs: 3_000,
} as const;

function inode(file: string): number | null {
  try {
    return fs.statSync(file).ino;
  } catch {
    return null;
  }
}

/** Resolves when `file` exists, or after `timeoutMs`. */
function fileAppears(file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const isBack = () => inode(file) !== null;
    let watcher: fs.FSWatcher | undefined;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    try {
      watcher = fs.watch(path.dirname(file), () => isBack() && done());
    } catch {
      // the directory itself is gone: the timeout answers
    }
    if (isBack()) done();
  });
}

export async function connectOrRevive(
  row: { socket_path: string; secret: string; worker_pid: number | null; worker_start_time: string | null },
  requestMs: number,
  connect: typeof WorkerClient.connect = WorkerClient.connect,
): ReturnType<typeof WorkerClient.connect> {
  try {
    return await connect(row.socket_path, row.secret, requestMs);
  } catch (err) {
    // Only a missing file is re-created: a worker never takes over a path that exists.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (row.worker_pid === null || !isSameProcess(row.worker_pid, row.worker_start_time)) throw err;
    const back = fileAppears(row.socket_path, WorkerReachTimeouts.socketBackMs);
    process.kill(row.worker_pid, 'SIGHUP');
    await back;
    return connect(row.socket_path, row.secret, requestMs);
  }
}
