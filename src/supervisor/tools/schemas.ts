/**
 * Argument and result schemas shared by several tools. Limits are part of the
 * schema so a bad argument is refused at the edge with its field named.
 */
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { AgentKind, PublicStatus } from './contractEnums';

export const sessionIdArg = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'sessionId must be a session id as returned by session_start or session_list')
  .describe('Session id from session_start or session_list');

export const sinceArg = z
  .number()
  .int('since must be a whole number')
  .min(0, 'since must be 0 or more (an absolute line offset)')
  .max(Number.MAX_SAFE_INTEGER)
  .optional()
  .describe("Absolute line offset to read from (0 = start of the session); pass the previous reply's nextOffset to continue");

export const limitArg = z
  .number()
  .int()
  .min(1, 'limit must be at least 1')
  .max(Limits.outputPageLinesMax, `limit must be at most ${Limits.outputPageLinesMax}`)
  .optional()
  .describe(`Most lines to return (default ${Limits.outputPageLines})`);

export const maxBytesArg = z
  .number()
  .int()
  .min(1_000, 'maxBytes must be at least 1000')
  .max(Limits.outputPageBytesMax, `maxBytes must be at most ${Limits.outputPageBytesMax}`)
  .optional()
  .describe(`Byte budget of the page (default ${Limits.outputPageBytes}, sized for MCP clients' result caps)`);

/** A permission request an agent waits on (mode ask): what session_approve names and a person decides on. */
export const PendingApprovalSchema = z.object({
  approvalId: z.string(),
  kind: z.string().describe('command | file_change | tool | permissions'),
  summary: z.string().describe('one line, e.g. "Bash: npm test"'),
  request: z.unknown().describe("the agent's request itself (bounded)"),
  decisions: z.array(z.string()).describe('what session_approve may answer: allow, allow_for_session, deny'),
  createdAt: z.string(),
});

/** An approval as journalled, decided or not (session_approve's answer). */
export const ApprovalSchema = PendingApprovalSchema.extend({
  sessionId: z.string(),
  state: z.enum(['pending', 'decided', 'withdrawn', 'lost']),
  decision: z.string().nullable(),
  message: z.string().nullable(),
  decidedBy: z.string().nullable().describe('connection:<id>, cli, ui, rule, timeout or agent'),
  decidedAt: z.string().nullable(),
});
/** The agent's reported work so far, across the session's continuations (issue 14); null until it reports any. */
export const UsageSchema = z
  .object({
    inputTokens: z.number(),
    cachedInputTokens: z.number(),
    outputTokens: z.number(),
    costUsd: z.number().nullable().describe('null where the agent does not report cost (Codex)'),
    turns: z.number(),
  })
  .nullable();

export const LimitsSchema = z.object({
  maxCostUsd: z.number().nullable(),
  maxTokens: z.number().nullable(),
  maxTurns: z.number().nullable(),
  maxDurationMs: z.number().nullable(),
});

/** A budget named in session_start or a continuing session_send (issue 18); each omitted limit keeps its value. */
export const LimitsArg = z
  .object({
    maxCostUsd: z.number().positive('maxCostUsd must be more than 0').max(1_000_000).optional().describe('US dollars, as the agent reports cost (Claude does; Codex does not)'),
    maxTokens: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe('input + output tokens'),
    maxTurns: z.number().int().min(1).max(1_000_000).optional().describe('agent turns; a turn past it is not started'),
    maxDurationMs: z
      .number()
      .int()
      .min(1)
      .max(365 * 24 * 3600_000)
      .optional()
      .describe('wall time the agent runs, across continuations'),
  })
  .strict();

export const SessionInfoSchema = z.object({
  sessionId: z.string(),
  agent: AgentKind,
  protocol: z.string().nullable().describe('how the agent is driven: claude, codex-app-server or codex-exec'),
  sandbox: z.enum(['bwrap', 'none']).describe("how the agent is confined: bwrap (bubblewrap: its cwd writable, agentvisor's state and other sessions invisible) or none"),
  cwd: z.string(),
  status: PublicStatus,
  pid: z.number().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  lastOutputAt: z.string().nullable(),
  silentForMs: z.number(),
  outputLines: z.number(),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  endReason: z.string().nullable(),
  completedSuccessfully: z.boolean().nullable(),
  agentSessionId: z.string().nullable(),
  errorSummary: z.string().nullable(),
  usage: UsageSchema,
  runMs: z.number().describe("wall time the agent has run, across the session's continuations (what maxDurationMs limits)"),
  limits: LimitsSchema.nullable().describe("the session's budget; null: none"),
  /** Present while the session's worker is connected but does not answer the heartbeat (stopped, starved). */
  workerUnresponsive: z.boolean().optional(),
  /** Mode ask: the requests the agent waits on (status awaiting_approval while there are any). */
  pendingApprovals: z.array(PendingApprovalSchema).optional(),
  note: z.string().optional(),
});

export const OutputPageSchema = z.object({
  sessionId: z.string(),
  status: PublicStatus,
  lines: z.array(z.string()),
  offset: z.number(),
  nextOffset: z.number(),
  dropped: z.number(),
  hasMore: z.boolean(),
  exitCode: z.number().nullable(),
  completedSuccessfully: z.boolean().nullable(),
  agentSessionId: z.string().nullable(),
  errorSummary: z.string().nullable(),
  pendingApprovals: z.array(PendingApprovalSchema).optional(),
  usage: UsageSchema,
  note: z.string().optional(),
});

/** What session_send tells of one message; the core returns it, the tool adds the session id. */
export const SendReplySchema = z.object({
  delivered: z.boolean(),
  queued: z.boolean(),
  /** Codex over app-server: the message joined the turn in progress (turn/steer). */
  steered: z.boolean().optional(),
  resumed: z.boolean().optional(),
  /** agentvisor's id of the input; for a repeated key, the first delivery's. */
  inputId: z.string().optional(),
  /** The key was taken before: answered like the first time, not delivered again. */
  duplicate: z.boolean().optional(),
  /** The worker did not answer in time: the message may or may not arrive. */
  deliveryUnknown: z.boolean().optional(),
  note: z.string().optional(),
});

/** A model name as agents spell them; anything else (shell metacharacters above all) is refused. */
export const ModelArg = z
  .string()
  .max(100, 'model must be at most 100 characters')
  .regex(/^[A-Za-z0-9._:/[\]-]+$/, 'model may contain only letters, digits and . - _ : / [ ]');

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The shape of a session's env. Which names may be set is the session env
 * policy's call (sessionEnvPolicy.ts, applied by SessionManager.start, where the
 * operator's SESSION_ENV_ALLOW is known). Names are checked here rather than by a
 * key schema: zod reports a failed record key only as "Invalid key in record",
 * without the reason.
 */
/** A session's extra directories (issue 16): few, each a path like cwd. */
export const ExtraPathsArg = z.array(z.string().min(1).max(Limits.maxPathChars)).max(Limits.maxExtraPaths, `at most ${Limits.maxExtraPaths} extra paths`);

export const SessionEnvArg = z
  .record(z.string(), z.string().max(4_096, 'env values must be at most 4096 characters'))
  .superRefine((m, ctx) => {
    for (const name of Object.keys(m)) {
      if (!ENV_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `env name "${name.slice(0, 100)}" is refused: env names must match [A-Z_][A-Z0-9_]*` });
      else if (name.length > 100) ctx.addIssue({ code: 'custom', path: [name], message: 'env names must be at most 100 characters' });
    }
  })
  .refine((m) => Object.keys(m).length <= 32, { message: 'env may set at most 32 variables' });

/** Mode ask's auto-allow rules (spec.approvals): bounded lists of plain names and prefixes. */
export const ApproveRulesArg = z
  .object({
    allowTools: z.array(z.string().min(1).max(200)).max(100, 'allowTools may name at most 100 tools').optional(),
    allowCommandPrefixes: z.array(z.string().min(1).max(1_000)).max(100, 'allowCommandPrefixes may hold at most 100 prefixes').optional(),
  })
  .strict();

/** A session's git worktree (session_start with worktree). */
export const WorktreeSchema = z.object({ path: z.string(), branch: z.string(), baseCommit: z.string(), repo: z.string() });
