import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ApprovalDecision } from '../../shared/protocol';
import { ApprovalBounds } from '../approvalStore';
import { decidedByOf } from './approvalRelay';
import { type ToolContext, guarded, ok } from './context';
import { ApprovalSchema, sessionIdArg } from './schemas';

export function registerSessionApproveTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_approve',
    {
      title: 'Answer a permission request',
      description:
        'Answer a permission request of a mode "ask" session (listed in session_wait, session_list and session info as pendingApprovals). ' +
        '"allow" runs it once; "allow_for_session" also allows the same tool and command prefix later in this session; "deny" refuses it, and message tells the agent why. ' +
        'Idempotent: a request already decided (by anyone, a rule or the timeout) is answered with who decided it and how, alreadyDecided: true.',
      inputSchema: z
        .object({
          sessionId: sessionIdArg,
          approvalId: z.string().min(1, 'approvalId must not be empty').max(128, 'approvalId must be at most 128 characters').describe('approvalId from pendingApprovals'),
          decision: z.enum(ApprovalDecision.values).describe('"allow", "allow_for_session" or "deny"'),
          message: z.string().max(ApprovalBounds.messageChars, `message must be at most ${ApprovalBounds.messageChars} characters`).optional().describe('Shown to the agent (with a deny: why)'),
        })
        .strict(),
      outputSchema: z.object({ approval: ApprovalSchema, alreadyDecided: z.boolean() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args, extra) => guarded(ctx, 'session_approve', async () => ok(await ctx.sessions.approve(args.sessionId, args.approvalId, args.decision, args.message ?? null, decidedByOf(server, extra)))),
  );
}
