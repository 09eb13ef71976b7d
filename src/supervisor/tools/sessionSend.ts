import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { type ToolContext, guarded, ok } from './context';
import { sessionIdArg } from './schemas';

export function registerSessionSendTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_send',
    {
      title: 'Send a message to a session',
      description:
        'Send a follow-up message to a running agent session (Claude Code: a new user message in the same conversation; Codex: a line typed into its terminal). ' +
        'With raw: true the text is written to the terminal exactly as given (to answer a prompt). Fails with a clear error if the session has ended.',
      inputSchema: z
        .object({
          sessionId: sessionIdArg,
          message: z
            .string()
            .min(1, 'message must not be empty')
            .max(Limits.maxMessageChars, `message must be at most ${Limits.maxMessageChars} characters`)
            .describe('The message'),
          raw: z.boolean().optional().describe('Write the text to the agent verbatim, without message framing'),
        })
        .strict(),
      outputSchema: z.object({ sessionId: z.string(), delivered: z.boolean(), queued: z.boolean(), note: z.string().optional() }),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    (args) =>
      guarded(ctx, 'session_send', async () => {
        const result = await ctx.sessions.send(args.sessionId, args.message, args.raw ?? false);
        return ok({ sessionId: args.sessionId, ...result });
      }),
  );
}
