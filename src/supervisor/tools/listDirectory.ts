import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { type ToolContext, guarded, ok, toolError } from './context';
import { allowedRoots } from './roots';

export function registerListDirectoryTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_directory',
    {
      title: 'List a directory',
      description:
        "List a directory inside WORKSPACE_DIR or a running session's cwd; recursive: true walks three levels deep. Symlinks are listed with their target, never followed. " +
        'Large trees are cut at a bound and say truncated: true.',
      inputSchema: z
        .object({
          path: z.string().min(1, 'path must not be empty').max(Limits.maxPathChars).describe('Directory path'),
          recursive: z.boolean().optional().describe('Walk subdirectories (depth 3)'),
        })
        .strict(),
      outputSchema: z.object({
        path: z.string(),
        entries: z.array(
          z.object({
            name: z.string(),
            type: z.enum(['file', 'directory', 'symlink', 'other']),
            size: z.number().optional(),
            target: z.string().optional(),
            error: z.string().optional(),
          }),
        ),
        truncated: z.boolean(),
        maxEntries: z.number(),
        maxDepth: z.number(),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(ctx, 'list_directory', async () => {
        const result = await ctx.fsPool.listDirectory(args, allowedRoots(ctx));
        if (!result.ok) return toolError(result.error);
        const { ok: _ok, op: _op, ...listing } = result;
        return ok(listing);
      }),
  );
}
