import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { type ToolContext, guarded, ok } from './context';
import { SessionInfoSchema, sessionIdArg } from './schemas';

export function registerSessionKillTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_kill',
    {
      title: 'Kill a session',
      description:
        'End a session: SIGTERM to the agent and everything it started, SIGKILL if still alive after the grace period. ' +
        'The status returned is the truth: "killed" once the agent is gone, "killing" while the grace period runs. Output stays readable.',
      inputSchema: z.object({ sessionId: sessionIdArg }).strict(),
      outputSchema: SessionInfoSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (args) => guarded(ctx, 'session_kill', async () => ok(await ctx.sessions.kill(args.sessionId))),
  );
}
