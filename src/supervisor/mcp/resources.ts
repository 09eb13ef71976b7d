/**
 * Each session's output as an MCP resource, `agentvisor://sessions/<id>/output`,
 * listed, readable with the same paging as session_output (`?since=&limit=`),
 * and subscribable: a subscriber gets `notifications/resources/updated` when new
 * output arrives, so it can follow a session without polling.
 */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Limits } from '../../shared/constants';
import type { ToolContext } from '../tools/context';

const SCHEME_PREFIX = 'agentvisor://sessions/';
/** Update notifications per subscribed URI are coalesced to at most one per this interval. */
export const RESOURCE_UPDATE_MIN_INTERVAL_MS = 50;

export function outputUri(sessionId: string): string {
  return `${SCHEME_PREFIX}${sessionId}/output`;
}

function sessionIdOf(uri: string): string | undefined {
  const m = /^agentvisor:\/\/sessions\/([0-9a-f-]{36})\/output(?:\?.*)?$/.exec(uri);
  return m?.[1];
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be a whole number from 0 to ${max}`);
  return n;
}

/** Registers the resources on `server`; returns a disposer for the subscriptions it holds. */
export function registerOutputResources(server: McpServer, ctx: ToolContext): () => void {
  server.registerResource(
    'session-output',
    new ResourceTemplate(`${SCHEME_PREFIX}{sessionId}/output{?since,limit}`, {
      list: async () => ({
        resources: ctx.sessions.list().map((s) => ({
          uri: outputUri(s.sessionId),
          name: `${s.agent} session ${s.sessionId.slice(0, 8)} (${s.status})`,
          description: `Output of the ${s.agent} session in ${s.cwd}`,
          mimeType: 'application/json',
        })),
      }),
    }),
    { title: 'Session output', description: 'A page of a session\'s output lines; ?since=<offset>&limit=<lines>', mimeType: 'application/json' },
    async (uri, vars) => {
      const id = String(vars.sessionId);
      const page = await ctx.sessions.read(
        id,
        intParam(uri, 'since', 0, Number.MAX_SAFE_INTEGER),
        Math.max(1, intParam(uri, 'limit', Limits.outputPageLines, Limits.outputPageLinesMax)),
        Limits.outputPageBytes,
      );
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(page) }] };
    },
  );

  // Subscriptions: McpServer does not manage them, so the low-level handlers do.
  const subscribed = new Map<string, string>(); // sessionId → uri as the client wrote it
  const pending = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    const id = sessionIdOf(req.params.uri);
    if (!id) throw new Error(`not a session output resource: ${req.params.uri}`);
    ctx.sessions.info(id); // unknown ids fail here, with the usual message
    subscribed.set(id, req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    const id = sessionIdOf(req.params.uri);
    if (id) subscribed.delete(id);
    return {};
  });
  const onChanged = (sessionId: string) => {
    const uri = subscribed.get(sessionId);
    if (!uri || pending.has(sessionId)) return;
    pending.add(sessionId);
    const t = setTimeout(() => {
      timers.delete(t);
      pending.delete(sessionId);
      server.server.sendResourceUpdated({ uri }).catch(() => undefined); // client gone: its onclose disposes us
    }, RESOURCE_UPDATE_MIN_INTERVAL_MS);
    timers.add(t);
  };
  ctx.sessions.on('changed', onChanged);
  return () => {
    ctx.sessions.off('changed', onChanged);
    for (const t of timers) clearTimeout(t);
    subscribed.clear();
  };
}
