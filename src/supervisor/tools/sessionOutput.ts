import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { type ToolContext, guarded, ok } from './context';
import { OutputPageSchema, limitArg, maxBytesArg, sessionIdArg, sinceArg } from './schemas';

export function registerSessionOutputTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_output',
    {
      title: 'Read session output',
      description:
        "Read a page of a session's output lines, with absolute offsets: pass the reply's nextOffset as since to read on; hasMore says more is already there. " +
        'Works for ended sessions too. Also reports status, exitCode and completedSuccessfully. To block until new output arrives, use session_wait instead.',
      inputSchema: z.object({ sessionId: sessionIdArg, since: sinceArg, limit: limitArg, maxBytes: maxBytesArg }).strict(),
      outputSchema: OutputPageSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) => guarded(ctx, 'session_output', async () => ok(await ctx.sessions.read(args.sessionId, args.since ?? 0, args.limit ?? Limits.outputPageLines, args.maxBytes ?? Limits.outputPageBytes))),
  );
}
