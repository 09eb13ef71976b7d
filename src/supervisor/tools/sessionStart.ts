import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { AgentKind, AgentMode } from './contractEnums';
import { resolveCwd } from '../fs/pathGuard';
import { SESSION_ENV_ALLOWED, SESSION_ENV_ALLOWED_PREFIXES } from '../sessionEnvPolicy';
import { SessionError } from '../sessionManager';
import { type ToolContext, guarded, ok } from './context';
import { elicitPending } from './approvalRelay';
import { waitUntilEnded } from './waiting';
import { ContextArg, withContext } from './attachedContext';
import { ApproveRulesArg, ExtraPathsArg, LimitsArg, ModelArg, OutputPageSchema, SessionEnvArg, SessionInfoSchema, WorktreeSchema } from './schemas';

export function registerSessionStartTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_start',
    {
      title: 'Start an agent session',
      description:
        'Start a coding agent (Claude Code or Codex) on a task in a directory on this host. Returns the session id and the first output as soon as the agent prints (at most ~1.5 s). ' +
        'Then follow it with session_wait (blocks until new output) or session_output, steer it with session_send, and end it with session_kill. ' +
        'For a one-shot question, pass waitMs: the call then blocks until the agent has finished and returns its finalAnswer. ' +
        'mode "plan" only reads and answers; "edit" may edit files in cwd; "full" (default) runs with full permissions; ' +
        '"ask" relays each permission request of the agent for a decision: the session shows status awaiting_approval with pendingApprovals, ' +
        'session_wait returns at once with them, and session_approve answers (clients with elicitation are asked directly while they wait). ' +
        'Unanswered requests are denied after APPROVAL_TIMEOUT.',
      inputSchema: z
        .object({
          agent: AgentKind.describe('"claude-code" or "codex"'),
          cwd: z.string().min(1, 'cwd must not be empty').max(Limits.maxPathChars).describe('Working directory: relative to WORKSPACE_DIR, or absolute inside it; created if missing'),
          task: z
            .string()
            .min(1, 'task must not be empty')
            .max(Limits.maxTaskChars, `task must be at most ${Limits.maxTaskChars} characters`)
            .describe('What the agent should do, as you would type it to the agent'),
          model: ModelArg.optional().describe('Model name passed to the agent\'s --model flag, e.g. "sonnet" or "gpt-5.1-codex"'),
          mode: AgentMode.optional().describe(
            '"full" (default): no approvals, no sandbox. "edit": may edit files in its cwd, no arbitrary escapes. "plan": reads and answers, changes nothing. ' +
              '"ask": every permission request (a command, a file change, a tool) waits for a decision by session_approve, elicitation, the CLI or the dashboard; denied after APPROVAL_TIMEOUT',
          ),
          approve: ApproveRulesArg.optional().describe(
            'Mode "ask" only: requests these rules allow without asking (decided by "rule"). allowTools: tool names, e.g. ["Read", "Grep"]; allowCommandPrefixes: command prefixes, e.g. ["npm test", "git status"]',
          ),
          waitMs: z
            .number()
            .int()
            .min(1, 'waitMs must be at least 1')
            .max(3_600_000, 'waitMs must be at most 3600000 (it is capped lower by the server)')
            .optional()
            .describe('Block until the session ends (up to this long, capped like session_wait) and return its final answer: the one-call "ask"'),
          instructions: z
            .string()
            .min(1, 'instructions must not be empty (omit them instead)')
            .max(Limits.maxInstructionsChars, `instructions must be at most ${Limits.maxInstructionsChars} characters: put long material in context or in a file the agent reads`)
            .optional()
            .describe(
              "Developer instructions for the agent, kept for the whole session (also when it is continued): Claude's appended system prompt, Codex's developer instructions. Added to agentvisor's own",
            ),
          context: ContextArg.optional(),
          readOnlyPaths: ExtraPathsArg.optional().describe(
            'Directories (inside WORKSPACE_DIR, like cwd) the confined agent may also read, e.g. a sibling package of a monorepo; the rest of WORKSPACE_DIR stays invisible to it',
          ),
          writablePaths: ExtraPathsArg.optional().describe('Directories (inside WORKSPACE_DIR, like cwd) the confined agent may also write'),
          worktree: z
            .union([z.boolean(), z.string().min(1, 'worktree branch must not be empty').max(200, 'worktree branch must be at most 200 characters')])
            .optional()
            .describe(
              'Run the agent in a new git worktree of the repository cwd is in, on a new branch from its current HEAD (true: branch agentvisor/<id>; a string: that branch name). ' +
                "The user's checkout is not touched; session_diff compares against the start commit; the worktree and branch stay until session_cleanup",
            ),
          env: SessionEnvArg.optional().describe(
            `Extra environment variables for this session's agent: ${[...SESSION_ENV_ALLOWED].join(', ')}, names starting with ${SESSION_ENV_ALLOWED_PREFIXES.join(', ')}, and what the operator allows (SESSION_ENV_ALLOW); anything else is refused with the reason`,
          ),
          limits: LimitsArg.optional().describe('Budget of the session; omitted limits are the server\'s defaults (DEFAULT_MAX_*). At a limit the session ends with endReason "budget_exceeded"'),
        })
        .strict(),
      outputSchema: SessionInfoSchema.extend({
        initialOutput: OutputPageSchema,
        finalAnswer: z.string().nullable().optional(),
        worktree: WorktreeSchema.optional(),
        timedOut: z.boolean().optional(),
        awaitingApproval: z.boolean().optional().describe('waitMs returned early: the agent waits on the pendingApprovals (answer with session_approve)'),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    (args, extra) =>
      guarded(ctx, 'session_start', async () => {
        const cwd = await resolveCwd(args.cwd, ctx.config.WORKSPACE_DIR);
        if (!cwd.ok) throw new SessionError(cwd.error);
        if (args.approve && args.mode !== 'ask') throw new SessionError('approve applies only to mode "ask": pass mode "ask" with it, or leave it out');
        const resolvePaths = async (paths: string[] | undefined) => {
          const out: string[] = [];
          for (const p of paths ?? []) {
            const r = await resolveCwd(p, ctx.config.WORKSPACE_DIR);
            if (!r.ok) throw new SessionError(r.error);
            out.push(r.path);
          }
          return out;
        };
        const { info, initialOutput } = await ctx.sessions.start({
          agent: args.agent,
          cwd: cwd.path,
          task: await withContext(ctx, args.task, args.context),
          model: args.model ?? null,
          mode: args.mode ?? 'full',
          env: args.env,
          limits: args.limits,
          instructions: args.instructions ?? null,
          approve: args.approve,
          readOnlyPaths: await resolvePaths(args.readOnlyPaths),
          writablePaths: await resolvePaths(args.writablePaths),
          worktree: args.worktree,
        });
        const wt = ctx.sessions.worktree(info.sessionId);
        const worktree = wt ? { worktree: { path: wt.path, branch: wt.branch, baseCommit: wt.base_commit, repo: wt.repo } } : {};
        if (args.waitMs === undefined) return ok({ ...info, initialOutput, ...worktree });
        // The one-call ask: block (with progress, honouring cancellation) until the session ends.
        const relay = async (leftMs: number) => (await elicitPending(ctx, server, extra, info.sessionId, leftMs)).length > 0;
        const waited = await waitUntilEnded(ctx, info.sessionId, Math.min(args.waitMs, ctx.config.WAIT_MAX), extra, relay);
        const final = ctx.sessions.info(info.sessionId);
        return ok({ ...final, initialOutput, ...worktree, ...waited });
      }),
  );
}
