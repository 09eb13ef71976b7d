import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { AgentKind } from '../../shared/protocol';
import { resolveCwd } from '../fs/pathGuard';
import { SessionError } from '../sessionManager';
import { type ToolContext, guarded, ok } from './context';
import { OutputPageSchema, SessionInfoSchema } from './schemas';

export function registerSessionStartTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_start',
    {
      title: 'Start an agent session',
      description:
        'Start a coding agent (Claude Code or Codex) on a task in a directory on this host. Returns the session id and the first output as soon as the agent prints (at most ~1.5 s). ' +
        'Then follow it with session_wait (blocks until new output) or session_output, steer it with session_send, and end it with session_kill. ' +
        'The agent runs with full permissions in its cwd.',
      inputSchema: z
        .object({
          agent: AgentKind.describe('"claude-code" or "codex"'),
          cwd: z
            .string()
            .min(1, 'cwd must not be empty')
            .max(Limits.maxPathChars)
            .describe('Working directory: relative to WORKSPACE_DIR, or absolute inside it; created if missing'),
          task: z
            .string()
            .min(1, 'task must not be empty')
            .max(Limits.maxTaskChars, `task must be at most ${Limits.maxTaskChars} characters`)
            .describe('What the agent should do, as you would type it to the agent'),
        })
        .strict(),
      outputSchema: SessionInfoSchema.extend({ initialOutput: OutputPageSchema }),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    (args) =>
      guarded(ctx, 'session_start', async () => {
        const cwd = await resolveCwd(args.cwd, ctx.config.WORKSPACE_DIR);
        if (!cwd.ok) throw new SessionError(cwd.error);
        const { info, initialOutput } = await ctx.sessions.start({ agent: args.agent, cwd: cwd.path, task: args.task });
        return ok({ ...info, initialOutput });
      }),
  );
}
