/** Small pieces more than one driver uses. */
import crypto from 'node:crypto';
import type { ApprovalResult, DriverContext } from './driver';

/** The answer of a driver whose protocol cannot relay a permission request (issue 15 adds them). */
export const NO_APPROVALS: ApprovalResult = { ok: false, error: 'this agent protocol does not relay approval requests' };

/**
 * A stderr line is shown as it is, and becomes the error summary only when it names a known
 * cause: CLIs print warnings and progress there too.
 */
export function reportStderrLine(ctx: DriverContext, line: string): void {
  ctx.emit({ type: 'error', text: line, onlyIfRecognised: true });
  ctx.emit({ type: 'line', text: line });
}

/** An approval's id: unique across the session's workers (a resumed session gets a new worker), short enough to type. */
export function newApprovalId(): string {
  return `ap_${crypto.randomBytes(8).toString('hex')}`;
}

/** A file an approval names, as a person reads it: relative to the session's cwd when inside it (agents name files absolutely), else whole. */
export function shownPath(file: string, cwd: string): string {
  return cwd && file.startsWith(cwd + '/') ? file.slice(cwd.length + 1) : file;
}

/** What an approval keeps of the agent's request (JSON characters): enough to judge, bounded against a huge Write. */
export const MAX_REQUEST_CHARS = 16_384;

/** The request as kept: the whole of it when small, else an excerpt that says it was cut. */
export function boundedRequest(value: unknown): unknown {
  const json = JSON.stringify(value) ?? 'null';
  return json.length <= MAX_REQUEST_CHARS ? value : { truncated: true, excerpt: json.slice(0, MAX_REQUEST_CHARS) };
}
