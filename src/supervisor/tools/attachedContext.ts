/**
 * `context` on session_start and session_send (issue 19 item 7): material the client attaches,
 * inlined after its text in the one message the agent gets, each item under a header saying what
 * it is and which part of it follows. An item is
 * - a file by path, read like read_file (inside its roots, one page by its paging rules);
 * - an MCP embedded resource (`{type: "resource", resource: {uri, text | blob}}`), taken as given;
 * - an MCP resource link (`{type: "resource_link", uri}`) agentvisor can read itself: a `file://`
 *   URI (read as a file) or a session's output, `agentvisor://sessions/<id>/output`.
 * Only text is inlined; binary is refused, as is the whole when it exceeds the total bound.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { DEFAULT_MAX_LINES, MAX_MAX_BYTES, MAX_MAX_LINES } from '../fs/fsTasks';
import { SCHEME_PREFIX, parseOutputUri } from '../mcp/outputUri';
import { SessionError } from '../sessionError';
import type { ToolContext } from './context';
import { allowedRoots } from './roots';

const uri = z.string().min(1, 'uri must not be empty').max(Limits.maxPathChars);
const bounded = (what: string) => z.string().max(Limits.maxContextChars, `${what} must be at most ${Limits.maxContextChars} characters (the bound on all context)`);

const FileItem = z
  .object({
    type: z.literal('file'),
    path: z.string().min(1, 'path must not be empty').max(Limits.maxPathChars).describe("A file inside WORKSPACE_DIR or a running session's cwd (relative: to WORKSPACE_DIR)"),
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('0-based first line (default 0)'),
    maxLines: z.number().int().min(1).max(MAX_MAX_LINES).optional().describe(`Lines to attach (default ${DEFAULT_MAX_LINES})`),
    maxBytes: z.number().int().min(1_000).max(MAX_MAX_BYTES).optional().describe("Byte budget of the page (default: read_file's)"),
  })
  .strict();
// MCP's EmbeddedResource and ResourceLink: fields agentvisor does not use (annotations, _meta, size …) are dropped, not refused.
const ResourceItem = z.object({
  type: z.literal('resource'),
  resource: z.union([
    z.object({ uri, mimeType: z.string().max(200).optional(), text: bounded('resource.text') }),
    z.object({ uri, mimeType: z.string().max(200).optional(), blob: bounded('resource.blob') }),
  ]),
});
const LinkItem = z.object({
  type: z.literal('resource_link'),
  uri,
  name: z.string().max(1_000).optional(),
  mimeType: z.string().max(200).optional(),
});

export const ContextArg = z
  .array(z.discriminatedUnion('type', [FileItem, ResourceItem, LinkItem]))
  .min(1, 'context must not be empty (omit it instead)')
  .max(Limits.maxContextItems, `context takes at most ${Limits.maxContextItems} items`)
  .describe(
    `Material to attach, inlined after the text with a header per item: {type:"file", path, offset?, maxLines?, maxBytes?} (inside the file tools' roots, one page as read_file reads it), ` +
      `an MCP embedded resource {type:"resource", resource:{uri, text}} or a resource link {type:"resource_link", uri} to a file:// path or ${SCHEME_PREFIX}<id>/output. ` +
      `Text only; at most ${Limits.maxContextChars} characters in all`,
  );
export type ContextItem = z.infer<typeof ContextArg>[number];

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Material {
  /** What the header says the item is. */
  label: string;
  text: string;
}

/** A clear refusal naming the item. */
function refuse(index: number, what: string, why: string): SessionError {
  return new SessionError(`context[${index}] (${what.slice(0, 300)}): ${why}`);
}

/** Text of bytes that are text: valid UTF-8 without NUL, the test read_file applies to files. */
function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

async function readFilePage(ctx: ToolContext, index: number, args: { path: string; offset?: number; maxLines?: number; maxBytes?: number }): Promise<Material> {
  const page = await ctx.fsPool.readFile(args, allowedRoots(ctx));
  if (!page.ok) throw refuse(index, `file ${args.path}`, page.error);
  const first = page.offset + 1;
  const last = page.offset + page.lines.length;
  const span = page.lines.length === 0 ? `no lines from line ${first}` : `lines ${first}-${last}`;
  const whole = page.totalLines !== undefined ? `${span} of ${page.totalLines}` : `${span}; the file goes on (attach offset ${page.nextOffset} for more)`;
  return { label: `file ${page.path} (${whole})`, text: page.lines.join('\n') };
}

async function resolve(ctx: ToolContext, item: ContextItem, index: number): Promise<Material> {
  switch (item.type) {
    case 'file':
      return readFilePage(ctx, index, item);
    case 'resource': {
      const r = item.resource;
      const kind = r.mimeType ? `, ${r.mimeType}` : '';
      if ('text' in r) {
        if (r.text.includes('\0')) throw refuse(index, `resource ${r.uri}`, 'its text contains a NUL byte: binary material cannot be inlined into a message');
        return { label: `resource ${r.uri}${kind}`, text: r.text };
      }
      // Buffer.from skips what is not base64 without a word: a blob must be base64 through and through.
      if (!BASE64.test(r.blob)) throw refuse(index, `resource ${r.uri}`, 'its blob is not base64');
      const text = asText(Buffer.from(r.blob, 'base64'));
      if (text === null) throw refuse(index, `resource ${r.uri}`, 'its blob is binary (not UTF-8 text, or it holds a NUL byte): only text can be inlined into a message');
      return { label: `resource ${r.uri}${kind}`, text };
    }
    case 'resource_link': {
      if (item.uri.startsWith('file:')) {
        let path: string;
        try {
          path = fileURLToPath(item.uri);
        } catch (err) {
          throw refuse(index, `resource link ${item.uri}`, `not a usable file URI: ${(err as Error).message}`);
        }
        return readFilePage(ctx, index, { path });
      }
      if (item.uri.startsWith(SCHEME_PREFIX)) {
        let q: ReturnType<typeof parseOutputUri>;
        try {
          q = parseOutputUri(item.uri);
        } catch (err) {
          throw refuse(index, `resource link ${item.uri}`, (err as Error).message);
        }
        let page: Awaited<ReturnType<typeof ctx.sessions.read>>;
        try {
          page = await ctx.sessions.read(q.sessionId, q.since, q.limit, Limits.outputPageBytes);
        } catch (err) {
          if (err instanceof SessionError) throw refuse(index, `resource link ${item.uri}`, err.message);
          throw err;
        }
        return { label: `output of session ${q.sessionId}, lines ${page.offset}-${page.nextOffset - 1}${page.hasMore ? ' (more follow)' : ''}`, text: page.lines.join('\n') };
      }
      throw refuse(
        index,
        `resource link ${item.uri}`,
        `agentvisor cannot read this URI (it reads file:// paths inside its roots and ${SCHEME_PREFIX}<id>/output); embed the content instead: {type: "resource", resource: {uri, text}}`,
      );
    }
  }
}

/** `text` followed by each item of `context` under its header; `text` alone without context. Throws SessionError for an item it cannot attach. */
export async function withContext(ctx: ToolContext, text: string, context: ContextItem[] | undefined): Promise<string> {
  if (!context?.length) return text;
  const items: Material[] = [];
  let total = 0;
  for (const [i, item] of context.entries()) {
    const m = await resolve(ctx, item, i);
    total += m.text.length;
    if (total > Limits.maxContextChars) {
      throw new SessionError(`context is more than ${Limits.maxContextChars} characters in all (the limit) by item ${i}: attach fewer items or smaller pages (maxLines, maxBytes, offset)`);
    }
    items.push(m);
  }
  const n = items.length;
  const blocks = items.map((m, i) => `===== context ${i + 1} of ${n}: ${m.label} =====\n${m.text}\n===== end of context ${i + 1} of ${n} =====`);
  return `${text}\n\nThe client attached ${n === 1 ? 'this material' : `these ${n} items`} for you to use:\n\n${blocks.join('\n\n')}\n`;
}
