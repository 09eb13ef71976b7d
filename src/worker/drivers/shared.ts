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
