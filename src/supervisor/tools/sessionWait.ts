import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits, SessionTimeouts } from '../../shared/constants';
import { type ToolContext, guarded, ok } from './context';
import { elicitPending, shownApprovals } from './approvalRelay';
import { withProgress } from './waiting';
import { ApprovalSchema, OutputPageSchema, limitArg, maxBytesArg, sessionIdArg, sinceArg } from './schemas';

export function registerSessionWaitTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_wait',
    {
      title: 'Wait for session output',
      description:
        'Block until the session has output past `since` (default: its current end) or has ended, then return that output like session_output. ' +
        `Returns at once for an ended session. timeoutMs defaults to ${SessionTimeouts.waitDefaultMs} and is capped at ${SessionTimeouts.waitMaxMs}; ` +
        'timedOut: true means nothing new arrived. Loop on it with since = nextOffset to follow a session. Sends progress notifications while waiting when the request has a progressToken, and stops at once on cancellation. ' +
        'Mode "ask": returns at once when the agent waits on a permission request this connection has not been shown yet (status awaiting_approval, pendingApprovals, also in every later reply while pending); answer it with session_approve. ' +
        'A client that declared the elicitation capability is asked with elicitation/create instead, and approvalsAnswered lists what it decided.',
      inputSchema: z
        .object({
          sessionId: sessionIdArg,
          since: sinceArg,
          timeoutMs: z
            .number()
            .int()
            .min(0, 'timeoutMs must be 0 or more')
            .max(3_600_000, 'timeoutMs must be at most 3600000 (it is capped lower by the server)')
            .optional()
            .describe(`How long to wait in ms (default ${SessionTimeouts.waitDefaultMs}, capped at ${SessionTimeouts.waitMaxMs})`),
          limit: limitArg,
          maxBytes: maxBytesArg,
        })
        .strict(),
      outputSchema: OutputPageSchema.extend({ timedOut: z.boolean(), approvalsAnswered: z.array(ApprovalSchema).optional() }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args, extra) =>
      guarded(ctx, 'session_wait', async () => {
        const timeout = Math.min(args.timeoutMs ?? SessionTimeouts.waitDefaultMs, ctx.config.WAIT_MAX);
        const started = Date.now();
        const shown = shownApprovals(server, args.sessionId);
        const page = await withProgress(ctx, extra, timeout, 'waiting for output', () =>
          ctx.sessions.wait(args.sessionId, args.since, timeout, args.limit ?? Limits.outputPageLines, args.maxBytes ?? Limits.outputPageBytes, extra.signal, shown),
        );
        if (!page.pendingApprovals) return ok(page);
        for (const a of page.pendingApprovals) shown.add(a.approvalId);
        const answered = await elicitPending(ctx, server, extra, args.sessionId, timeout - (Date.now() - started));
        if (answered.length === 0) return ok(page);
        const now = ctx.sessions.info(args.sessionId);
        return ok({ ...page, status: now.status, pendingApprovals: now.pendingApprovals, approvalsAnswered: answered.map((r) => r.approval) });
      }),
  );
}
