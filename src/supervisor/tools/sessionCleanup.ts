import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { type ToolContext, guarded, ok } from './context';
import { sessionIdArg } from './schemas';

export function registerSessionCleanupTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_cleanup',
    {
      title: "Remove a session's git worktree",
      description:
        'Removes the git worktree a session was started in (session_start with worktree), once the session has ended. ' +
        'Refuses while the worktree has uncommitted changes unless force. The branch is kept (it holds the work) unless deleteBranch; ' +
        'a branch with commits not merged into the repository HEAD is kept unless force too.',
      inputSchema: z
        .object({
          sessionId: sessionIdArg,
          deleteBranch: z.boolean().optional().describe("Also delete the session's branch (default false: the branch keeps the work)"),
          force: z.boolean().optional().describe('Discard uncommitted changes, and delete an unmerged branch when deleteBranch'),
        })
        .strict(),
      outputSchema: z.object({
        sessionId: z.string(),
        path: z.string(),
        branch: z.string(),
        worktreeRemoved: z.boolean(),
        branchDeleted: z.boolean(),
        notes: z.array(z.string()),
      }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      guarded(ctx, 'session_cleanup', async () => {
        const done = await ctx.sessions.cleanup(args.sessionId, { deleteBranch: args.deleteBranch ?? false, force: args.force ?? false });
        return ok({ sessionId: args.sessionId, ...done });
      }),
  );
}
