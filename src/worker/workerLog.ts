/**
 * The worker's log: JSON lines in `<sessionDir>/worker.log`, the shape the
 * supervisor's winston logger writes, secrets scrubbed the same way. A worker
 * logs a handful of lines per session, so this is a synchronous append and no
 * more; winston would cost every worker ~50 ms of start-up and several MB.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { scrub } from '../shared/scrub';

const LEVELS = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 } as const;
type Level = keyof typeof LEVELS;

/** Beyond this the file is rotated once (to `.1`): a worker's log stays bounded. */
const MAX_BYTES = 10 * 1024 * 1024;

export interface WorkerLogOptions {
  level: string;
  file: string;
  /** Strings that must never appear in a log line (the session secret, API keys). */
  secrets: string[];
  defaultMeta?: Record<string, unknown>;
}

export class WorkerLog extends EventEmitter {
  private readonly threshold: number;
  private size: number;
  private ended = false;

  constructor(private readonly opts: WorkerLogOptions) {
    super();
    this.threshold = LEVELS[opts.level as Level] ?? LEVELS.info;
    try {
      this.size = fs.statSync(opts.file).size;
    } catch {
      this.size = 0;
    }
  }

  error(message: string, meta?: Record<string, unknown>): void {
    this.write('error', message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.write('warn', message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.write('info', message, meta);
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.write('debug', message, meta);
  }

  /** Nothing is buffered; 'finish' follows on the next tick, as a stream's would. */
  end(): void {
    this.ended = true;
    process.nextTick(() => this.emit('finish'));
  }

  private write(level: Level, message: string, meta?: Record<string, unknown>): void {
    if (this.ended || LEVELS[level] > this.threshold) return;
    // Read per line, as the supervisor's logger does: a secret added later is scrubbed too.
    const secrets = this.opts.secrets.filter((s) => s.length >= 8);
    const entry = scrub({ ...this.opts.defaultMeta, ...meta, level, message, timestamp: new Date().toISOString() }, secrets);
    const line = JSON.stringify(entry) + '\n';
    try {
      if (this.size + line.length > MAX_BYTES) {
        fs.renameSync(this.opts.file, this.opts.file + '.1');
        this.size = 0;
      }
      fs.appendFileSync(this.opts.file, line, { mode: 0o600 });
      this.size += line.length;
    } catch {
      // A full disk must not take the session down with it.
    }
  }
}

export function createWorkerLogger(opts: WorkerLogOptions): WorkerLog {
  return new WorkerLog(opts);
}
