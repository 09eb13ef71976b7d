import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { type ToolContext, guarded, ok } from './context';
import { SessionInfoSchema } from './schemas';

export function registerSessionListTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_list',
    {
      title: 'List sessions',
      description:
        'List every session with its status (running, killing, exited, killed, failed, lost), agent, cwd, timestamps, pid and exit code. ' +
        'silentForMs is the time since the session last printed: large while running means the agent may be stuck.',
      inputSchema: z.object({}).strict(),
      outputSchema: z.object({ sessions: z.array(SessionInfoSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => guarded(ctx, 'session_list', async () => ok({ sessions: ctx.sessions.list() })),
  );
}
