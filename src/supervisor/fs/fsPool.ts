/**
 * Owns the piscina thread pool that runs the filesystem tools (fsTasks) off the event loop.
 * Every method resolves to a result value — including pool failures such as a task timeout,
 * a full queue or a crashed worker — so callers never need a try/catch.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import type { FsError, FsTaskRequest, FsTaskResult, ListDirectoryArgs, ListDirectoryResult, ReadFileArgs, ReadFileResult } from './fsTasks';
import type { AllowedRoot } from './pathGuard';

/** A few threads suffice: the work is I/O-bound syscalls, and each thread costs ~10 MB. */
const DEFAULT_MAX_THREADS = Math.max(1, Math.min(4, os.availableParallelism() - 1));
/** Requests allowed to wait for a thread; beyond this a flood gets a "busy" answer instead of growing memory. */
const MAX_QUEUED_TASKS = 256;
export const FsPoolTimeouts = {
  /** Idle threads exit after this long, so a quiet supervisor holds no workers. */
  threadIdleMs: 30_000,
  /** A task still running after this is presumed stuck (e.g. a hung network mount); its worker is killed. Tests pass a shorter one. */
  taskMs: 30_000,
} as const;

export interface FsPoolOptions {
  maxThreads?: number;
  /** Per-task time limit; the worker running an overdue task is terminated. */
  taskTimeoutMs?: number;
  /** Override the compiled task module's location (defaults to resolveTaskFile()). */
  taskFile?: string;
}

/**
 * Finds the compiled task module. piscina loads it in a fresh worker with plain `require`,
 * which cannot load TypeScript, so it must always be a .js file:
 *  - production runs dist/, where fsTasks.js is compiled next to this file;
 *  - under ts-jest this file runs from src/ as .ts (`__filename` ends in .ts), so we point at
 *    the build output dist/src/supervisor/fs/fsTasks.js (tsconfig: rootDir ".", outDir "dist";
 *    `npm test` runs `npm run build` first, which keeps it fresh).
 */
export function resolveTaskFile(): string {
  if (__filename.endsWith('.ts')) {
    const repoRoot = path.resolve(__dirname, '..', '..', '..');
    return path.join(repoRoot, 'dist', 'src', 'supervisor', 'fs', 'fsTasks.js');
  }
  return path.join(__dirname, 'fsTasks.js');
}

export class FsPool {
  private readonly pool: Piscina<FsTaskRequest, FsTaskResult>;
  private readonly taskTimeoutMs: number;
  private closed = false;

  constructor(options: FsPoolOptions = {}) {
    const filename = options.taskFile ?? resolveTaskFile();
    if (!fs.existsSync(filename)) {
      // Fail at startup, not on the first tool call, with the fix spelled out.
      throw new Error(`filesystem task module not found at ${filename}; run "npm run build" first.`);
    }
    const maxThreads = Math.max(1, Math.floor(options.maxThreads ?? DEFAULT_MAX_THREADS));
    this.taskTimeoutMs = options.taskTimeoutMs ?? FsPoolTimeouts.taskMs;
    this.pool = new Piscina<FsTaskRequest, FsTaskResult>({
      filename,
      minThreads: 0,
      maxThreads,
      idleTimeout: FsPoolTimeouts.threadIdleMs,
      maxQueue: MAX_QUEUED_TASKS,
    });
  }

  readFile(args: ReadFileArgs, roots: AllowedRoot[]): Promise<ReadFileResult> {
    return this.run({ ...pick(args, ['path', 'maxLines', 'offset', 'maxBytes']), op: 'read_file', roots: [...roots] } as FsTaskRequest) as Promise<ReadFileResult>;
  }

  listDirectory(args: ListDirectoryArgs, roots: AllowedRoot[]): Promise<ListDirectoryResult> {
    return this.run({ ...pick(args, ['path', 'recursive', 'maxEntries']), op: 'list_directory', roots: [...roots] } as FsTaskRequest) as Promise<ListDirectoryResult>;
  }

  /** Waits for running tasks, then stops the workers. Later calls return an error value. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  private async run(request: FsTaskRequest): Promise<FsTaskResult> {
    if (this.closed) return fail('the filesystem tools are shut down (the supervisor is stopping).');
    try {
      return await this.pool.run(request, { signal: AbortSignal.timeout(this.taskTimeoutMs) });
    } catch (err) {
      const e = err as Error;
      if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
        return fail(`${request.op} on "${request.path}" took longer than ${this.taskTimeoutMs} ms and was stopped (a slow or hung filesystem?). Try a smaller request or retry later.`);
      }
      if (/queue is at limit/i.test(String(e?.message))) {
        return fail('the filesystem tools are busy (too many requests queued). Retry shortly.');
      }
      return fail(`internal error running ${request.op}: ${String(e?.message ?? err).split('\n')[0]}`);
    }
  }
}

function fail(error: string): FsError {
  return { ok: false, error };
}

/** Copies only known fields, so nothing unexpected (functions, class instances) reaches structured clone. */
function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
