import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { RingBuffer } from '../../shared/ringBuffer';
import { type ToolContext, guarded, ok, toolError } from './context';
import { limitArg, maxBytesArg, sessionIdArg, sinceArg } from './schemas';

export function registerSessionDiffTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'session_diff',
    {
      title: 'Diff of what a session changed',
      description:
        'What the agent changed in its cwd since the session started: a unified git diff against the state recorded at start, new untracked files included, ' +
        'plus the list of changed files. Paged by line like session_output (since / nextOffset / hasMore). Needs the cwd to be inside a git repository at start.',
      inputSchema: z.object({ sessionId: sessionIdArg, since: sinceArg, limit: limitArg, maxBytes: maxBytesArg }).strict(),
      outputSchema: z.object({
        sessionId: z.string(),
        base: z.string(),
        files: z.array(z.object({ status: z.string(), path: z.string() })),
        lines: z.array(z.string()),
        offset: z.number(),
        nextOffset: z.number(),
        totalLines: z.number(),
        hasMore: z.boolean(),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(ctx, 'session_diff', async () => {
        const d = await ctx.sessions.diff(args.sessionId);
        if (!d.ok) return toolError(d.error ?? 'no diff available');
        // Page with the same semantics as session output.
        const ring = new RingBuffer(Math.max(1, d.lines.length));
        for (const l of d.lines) ring.push(l);
        const page = ring.read(args.since ?? 0, args.limit ?? Limits.outputPageLines, args.maxBytes ?? Limits.outputPageBytes);
        return ok({
          sessionId: args.sessionId,
          base: d.base!,
          files: d.files,
          lines: page.lines,
          offset: page.offset,
          nextOffset: page.nextOffset,
          totalLines: d.lines.length,
          hasMore: page.hasMore,
        });
      }),
  );
}
