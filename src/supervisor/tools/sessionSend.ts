import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { type ToolContext, guarded, ok } from './context';
import { LimitsArg, SendReplySchema, sessionIdArg } from './schemas';
import { ContextArg, withContext } from './attachedContext';

export function registerSessionSendTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_send',
    {
      title: 'Send a message to a session',
      description:
        'Send a follow-up message to a session. Claude Code: delivered at once as a new user message in the same conversation. ' +
        'Codex over app-server (the default when the CLI has it): a message during a turn joins that turn (steered: true). ' +
        'Codex over exec (CODEX_PROTOCOL=exec): it takes no message mid-turn, so the message is queued (queued: true) and becomes the next turn as soon as the current one ends; nothing sent is dropped. ' +
        'To an ended session (exited, failed or killed): continues the same agent conversation under the same sessionId (resumed: true), output offsets carrying on. ' +
        'raw: true writes the text to the agent\'s terminal exactly as given, to answer a prompt (include "\\r" for Enter). ' +
        'interrupt: true stops the current turn but keeps the session; add a message to redirect the agent. ' +
        'idempotencyKey makes a retry safe: a message sent again with the same key is not delivered again (duplicate: true). ' +
        'deliveryUnknown: true means the worker did not answer in time and the message may still arrive: retry with the same idempotencyKey.',
      inputSchema: z
        .object({
          sessionId: sessionIdArg,
          message: z
            .string()
            .min(1, 'message must not be empty')
            .max(Limits.maxMessageChars, `message must be at most ${Limits.maxMessageChars} characters`)
            .optional()
            .describe('The message (required unless interrupt is true)'),
          context: ContextArg.optional(),
          raw: z.boolean().optional().describe('Write the text to the agent verbatim, without message framing'),
          idempotencyKey: z
            .string()
            .min(1, 'idempotencyKey must not be empty')
            .max(Limits.maxIdempotencyKeyChars, `idempotencyKey must be at most ${Limits.maxIdempotencyKeyChars} characters`)
            .optional()
            .describe('A key of your choosing (a UUID): the message is delivered at most once per key, so a retry after a timeout is safe'),
          interrupt: z.boolean().optional().describe("Stop the agent's current turn first (the session and its conversation are kept); with a message, redirect it"),
          limits: LimitsArg.optional().describe('Only when continuing an ended session: new budget limits (the others are kept); needed to continue one that ended budget_exceeded'),
        })
        .strict()
        .superRefine((a, issue) => {
          if (a.message === undefined && a.interrupt !== true) {
            issue.addIssue({ code: 'custom', path: ['message'], message: 'message is required (or pass interrupt: true to only stop the current turn)' });
          }
          if (a.raw && a.interrupt) issue.addIssue({ code: 'custom', path: ['raw'], message: 'raw and interrupt cannot be combined' });
          if (a.context && (a.raw || a.message === undefined)) {
            issue.addIssue({ code: 'custom', path: ['context'], message: 'context is attached to a message: pass message, and not raw (keystrokes take no attachments)' });
          }
        }),
      outputSchema: SendReplySchema.extend({ sessionId: z.string(), interrupted: z.boolean().optional() }),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    (args) =>
      guarded(ctx, 'session_send', async () => {
        // Attachments are read first: one that cannot be attached must not have interrupted the turn.
        const message = args.message === undefined ? undefined : await withContext(ctx, args.message, args.context);
        let interruptNote: string | undefined;
        if (args.interrupt) {
          interruptNote = (await ctx.sessions.interrupt(args.sessionId)).note;
          if (message === undefined) {
            return ok({ sessionId: args.sessionId, delivered: false, queued: false, interrupted: true, note: interruptNote });
          }
        }
        const result = await ctx.sessions.send(args.sessionId, message!, args.raw ?? false, args.idempotencyKey, args.limits);
        return ok({ sessionId: args.sessionId, ...result, ...(args.interrupt ? { interrupted: true } : {}) });
      }),
  );
}
