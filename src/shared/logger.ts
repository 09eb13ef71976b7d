/**
 * winston, set up the same way in both processes: JSON lines to a size-rotated
 * file, readable lines on stderr when a person is watching, and secrets
 * scrubbed from every line whatever field they hide in.
 */
import winston from 'winston';
import { scrub } from './scrub';
import { terminalJson, terminalText } from './sanitize';

export interface LoggerOptions {
  level: string;
  /** JSON-lines log file; rotated by size. */
  file?: string;
  /** Also log to stderr (readable when it is a terminal, JSON otherwise). */
  stderr: boolean;
  /** Strings that must never appear in a log line (the auth token, session secrets); may grow later. */
  secrets: string[];
  /** Fields stamped on every line, e.g. { sessionId }. */
  defaultMeta?: Record<string, unknown>;
}

const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024; // ten files of this: enough history, bounded disk
const LOG_FILES_KEPT = 10;

export function createLogger(opts: LoggerOptions): winston.Logger {
  const redact = winston.format((info) => {
    // Read per line, not copied once: a secret added later (a rotated token) is scrubbed too.
    const secrets = opts.secrets.filter((s) => s.length >= 8);
    for (const key of Object.keys(info)) (info as Record<string, unknown>)[key] = scrub(info[key], secrets);
    return info;
  });
  const base = winston.format.combine(redact(), winston.format.timestamp());
  const transports: winston.transport[] = [];
  if (opts.file) {
    const file = new winston.transports.File({
      filename: opts.file,
      maxsize: LOG_FILE_MAX_BYTES,
      maxFiles: LOG_FILES_KEPT,
      tailable: true,
      format: winston.format.combine(base, winston.format.json()),
    });
    // A full or unwritable disk loses log lines, never the process: an unhandled stream 'error' would end it.
    file.on('error', () => undefined);
    transports.push(file);
  }
  if (opts.stderr) {
    const readable = winston.format.printf((info) => {
      const { level, message, timestamp, ...meta } = info;
      // A person's terminal: fields carry client and agent text (a cwd, an error), whose controls must not act on it.
      const extra = Object.keys(meta).length ? ' ' + terminalJson(meta) : '';
      return terminalText(`${String(timestamp)} ${level} ${String(message)}`) + extra;
    });
    transports.push(
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
        format: winston.format.combine(base, process.stderr.isTTY ? readable : winston.format.json()),
      }),
    );
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({ level: opts.level, defaultMeta: opts.defaultMeta, transports });
}
