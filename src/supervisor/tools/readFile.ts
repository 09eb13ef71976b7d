import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, MAX_MAX_BYTES, MAX_MAX_LINES } from '../fs/fsTasks';
import { type ToolContext, guarded, ok, toolError } from './context';
import { allowedRoots } from './roots';

export function registerReadFileTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'read_file',
    {
      title: 'Read a file',
      description:
        "Read a page of a text file inside WORKSPACE_DIR or a running session's cwd. Pages by line: pass the reply's nextOffset as offset to continue; hasMore says there is more. " +
        'Relative paths are relative to WORKSPACE_DIR.',
      inputSchema: z
        .object({
          path: z.string().min(1, 'path must not be empty').max(Limits.maxPathChars).describe('File path'),
          maxLines: z
            .number()
            .int()
            .min(1, 'maxLines must be at least 1')
            .max(MAX_MAX_LINES, `maxLines must be at most ${MAX_MAX_LINES}`)
            .optional()
            .describe(`Lines per page (default ${DEFAULT_MAX_LINES})`),
          offset: z.number().int().min(0, 'offset must be 0 or more (a 0-based line number)').max(Number.MAX_SAFE_INTEGER).optional().describe('0-based line to start at'),
          maxBytes: z
            .number()
            .int()
            .min(1_000, 'maxBytes must be at least 1000')
            .max(MAX_MAX_BYTES, `maxBytes must be at most ${MAX_MAX_BYTES}`)
            .optional()
            .describe(`Byte budget per page (default ${DEFAULT_MAX_BYTES})`),
        })
        .strict(),
      outputSchema: z.object({
        path: z.string(),
        offset: z.number(),
        lines: z.array(z.string()),
        nextOffset: z.number(),
        hasMore: z.boolean(),
        truncated: z.string().optional(),
        totalBytes: z.number(),
        totalLines: z.number().optional(),
        note: z.string().optional(),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(ctx, 'read_file', async () => {
        const result = await ctx.fsPool.readFile(args, allowedRoots(ctx));
        if (!result.ok) return toolError(result.error);
        const { ok: _ok, op: _op, ...page } = result;
        return ok(page);
      }),
  );
}
