/**
 * Argument and result schemas shared by several tools. Limits are part of the
 * schema so a bad argument is refused at the edge with its field named.
 */
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { AgentKind, SessionStatus } from './contractEnums';

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
  .describe('Absolute line offset to read from (0 = start of the session); pass the previous reply\'s nextOffset to continue');

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

export const SessionInfoSchema = z.object({
  sessionId: z.string(),
  agent: AgentKind,
  protocol: z.string().nullable().describe('how the agent is driven: claude, codex-app-server or codex-exec'),
  sandbox: z.enum(['bwrap', 'none']).describe('how the agent is confined: bwrap (bubblewrap: its cwd writable, agentvisor\'s state and other sessions invisible) or none'),
  cwd: z.string(),
  status: SessionStatus,
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
  /** Present while the session's worker is connected but does not answer the heartbeat (stopped, starved). */
  workerUnresponsive: z.boolean().optional(),
  note: z.string().optional(),
});

export const OutputPageSchema = z.object({
  sessionId: z.string(),
  status: SessionStatus,
  lines: z.array(z.string()),
  offset: z.number(),
  nextOffset: z.number(),
  dropped: z.number(),
  hasMore: z.boolean(),
  exitCode: z.number().nullable(),
  completedSuccessfully: z.boolean().nullable(),
  agentSessionId: z.string().nullable(),
  errorSummary: z.string().nullable(),
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
