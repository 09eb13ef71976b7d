/**
 * Long waits shared by session_wait and session_start {waitMs}: progress
 * notifications while waiting (when the client asked for them) and prompt
 * cancellation.
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { isEnded } from '../../shared/sessionStatus';
import type { ToolContext } from './context';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Runs `fn` while sending progress every WAIT_PROGRESS_INTERVAL, if the request carries a progress token. */
export async function withProgress<T>(ctx: ToolContext, extra: Extra, totalMs: number, message: string, fn: () => Promise<T>): Promise<T> {
  const token = extra._meta?.progressToken;
  const started = Date.now();
  const ticker =
    token === undefined
      ? undefined
      : setInterval(() => {
          extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: Date.now() - started, total: totalMs, message } }).catch(() => undefined); // the client left; its cancellation ends the wait
        }, ctx.config.WAIT_PROGRESS_INTERVAL);
  try {
    return await fn();
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/**
 * Blocks until the session has ended (or timeout/cancel), then returns its final answer.
 * When its agent waits on an approval (mode ask), `relay` may get it answered (elicitation:
 * true once it did, and the wait goes on); otherwise the wait returns at once with
 * awaitingApproval, so a one-call ask never sleeps on a question nobody is shown.
 */
export async function waitUntilEnded(
  ctx: ToolContext,
  sessionId: string,
  timeoutMs: number,
  extra: Extra,
  relay: (leftMs: number) => Promise<boolean> = async () => false,
): Promise<{ timedOut: boolean; finalAnswer: string | null; awaitingApproval?: true }> {
  return withProgress(ctx, extra, timeoutMs, 'waiting for the agent to finish', async () => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const woke = left > 0 && (await ctx.sessions.waitEnded(sessionId, left, extra.signal, true));
      if (!woke) return { timedOut: true, finalAnswer: ctx.sessions.finalAnswer(sessionId) };
      if (isEnded(ctx.sessions.info(sessionId).status)) return { timedOut: false, finalAnswer: ctx.sessions.finalAnswer(sessionId) };
      if (!(await relay(deadline - Date.now()))) return { timedOut: false, finalAnswer: null, awaitingApproval: true };
    }
  });
}
