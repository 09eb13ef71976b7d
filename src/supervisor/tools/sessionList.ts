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
        'silentForMs is the time since the session last printed: large while running means the agent may be stuck. ' +
        'agents lists each agent CLI found on this host with its version and the modes it supports.',
      inputSchema: z.object({}).strict(),
      outputSchema: z.object({
        sessions: z.array(SessionInfoSchema),
        agents: z.array(
          z.object({
            agent: z.string(),
            found: z.boolean(),
            path: z.string().nullable(),
            version: z.string().nullable(),
            modes: z.array(z.string()),
            supportsModel: z.boolean(),
            supportsResume: z.boolean(),
            error: z.string().nullable(),
          }),
        ),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => guarded(ctx, 'session_list', async () => ok({ sessions: ctx.sessions.list(), agents: ctx.agents.all() })),
  );
}
