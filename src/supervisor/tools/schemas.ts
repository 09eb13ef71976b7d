/**
 * Argument and result schemas shared by several tools. Limits are part of the
 * schema so a bad argument is refused at the edge with its field named.
 */
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { AgentKind, SessionStatus } from '../../shared/protocol';

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

/** A model name as agents spell them; anything else (shell metacharacters above all) is refused. */
export const ModelArg = z
  .string()
  .max(100, 'model must be at most 100 characters')
  .regex(/^[A-Za-z0-9._:/\[\]-]+$/, 'model may contain only letters, digits and . - _ : / [ ]');

/** Variables a session may not set: they would hijack the agent, the loader or agentvisor itself. */
export const DENIED_ENV_NAMES = new Set([
  'AUTH_TOKEN', 'PATH', 'HOME', 'NODE_OPTIONS', 'NODE_PATH', 'BASH_ENV', 'ENV', 'SHELL', 'IFS', 'PROMPT_COMMAND',
  'PYTHONPATH', 'PYTHONSTARTUP', 'PERL5OPT', 'RUBYOPT', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH',
  'CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SSE_PORT',
]);
const DENIED_ENV_PREFIXES = ['LD_', 'DYLD_', 'AGENTVISOR_', 'CHILD_ENV_'];

export const SessionEnvArg = z
  .record(
    z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'env names must match [A-Z_][A-Z0-9_]*')
      .max(100, 'env names must be at most 100 characters')
      .refine((k) => !DENIED_ENV_NAMES.has(k) && !DENIED_ENV_PREFIXES.some((p) => k.startsWith(p)), {
        message: 'this env name is not allowed (PATH, HOME, AUTH_TOKEN, NODE_OPTIONS, LD_*, DYLD_* and similar are refused)',
      }),
    z.string().max(4_096, 'env values must be at most 4096 characters'),
  )
  .refine((m) => Object.keys(m).length <= 32, { message: 'env may set at most 32 variables' });
