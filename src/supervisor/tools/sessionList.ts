import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { AgentKind, PublicStatus } from './contractEnums';
import { CursorError, StatusFilter } from '../sessionListing';
import { type ToolContext, guarded, ok, toolError } from './context';
import { SessionInfoSchema } from './schemas';

export function registerSessionListTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_list',
    {
      title: 'List sessions',
      description:
        'List sessions with their status (running, awaiting_approval, killing, exited, killed, failed, lost), agent, cwd, timestamps, pid and exit code: ' +
        'running sessions first (newest first), then ended ones (most recently ended first), one page at a time. ' +
        `By default every status, ${Limits.sessionListPage} sessions a page; pass nextCursor back as cursor, with the same filters, for the next page. ` +
        'counts gives how many sessions of each status are kept (the oldest ended ones are forgotten past ENDED_SESSIONS_KEPT). ' +
        'silentForMs is the time since the session last printed: large while running means the agent may be stuck. ' +
        'agents lists each agent CLI found on this host with its version and the modes it supports.',
      inputSchema: z
        .object({
          status: StatusFilter.optional().describe(
            'Only sessions with this status; "awaiting_approval" = running sessions whose agent waits on a permission request (mode ask; "running" then means the others), "active" = running, awaiting_approval or killing, "ended" = the rest, "all" (default) = every status',
          ),
          agent: AgentKind.optional().describe('Only sessions of this agent'),
          limit: z
            .number()
            .int('limit must be a whole number')
            .min(1, 'limit must be at least 1')
            .max(Limits.sessionListMax, `limit must be at most ${Limits.sessionListMax}`)
            .optional()
            .describe(`Most sessions to return (default ${Limits.sessionListPage})`),
          cursor: z.string().max(1_000, 'cursor must be the nextCursor of a previous reply').optional().describe('nextCursor from the previous page'),
        })
        .strict(),
      outputSchema: z.object({
        sessions: z.array(SessionInfoSchema),
        nextCursor: z.string().nullable(),
        counts: z.partialRecord(PublicStatus, z.number()),
        agents: z.array(
          z.object({
            agent: z.string(),
            found: z.boolean(),
            path: z.string().nullable(),
            version: z.string().nullable(),
            modes: z.array(z.string()),
            supportsModel: z.boolean(),
            supportsResume: z.boolean(),
            supportsAppServer: z.boolean(),
            error: z.string().nullable(),
          }),
        ),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(ctx, 'session_list', async () => {
        try {
          return ok({ ...ctx.sessions.list(args), agents: ctx.agents.all() });
        } catch (err) {
          if (err instanceof CursorError) return toolError(err.message);
          throw err;
        }
      }),
  );
}
