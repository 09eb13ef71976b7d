/**
 * Each session's output as an MCP resource, `agentvisor://sessions/<id>/output`,
 * listed, readable with the same paging as session_output (`?since=&limit=`),
 * and subscribable: a subscriber gets `notifications/resources/updated` when new
 * output arrives, so it can follow a session without polling.
 */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Limits } from '../../shared/constants';
import { SessionError } from '../sessionManager';
import type { ToolContext } from '../tools/context';
import { OutputUriTemplate, outputUri, parseOutputUri, sessionIdOfUri } from './outputUri';

export const ResourceTimeouts = {
  /** Update notifications per subscribed URI are coalesced to at most one per this interval: a busy agent must not flood a subscriber. */
  updateMinIntervalMs: 50,
} as const;

/** An unknown session is the client's mistake (a stale or mistyped id): InvalidParams, with the usual message. */
async function asInvalidParams<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SessionError) throw new McpError(ErrorCode.InvalidParams, err.message);
    throw err;
  }
}

/** Registers the resources on `server`; returns a disposer for the subscriptions it holds. */
export function registerOutputResources(server: McpServer, ctx: ToolContext): () => void {
  server.registerResource(
    'session-output',
    new ResourceTemplate(new OutputUriTemplate(), {
      list: async () => ({
        // The SDK hands list callbacks no cursor: one page, running sessions first, then the recently ended.
        resources: ctx.sessions.list({ limit: Limits.sessionListMax }).sessions.map((s) => ({
          uri: outputUri(s.sessionId),
          name: `${s.agent} session ${s.sessionId.slice(0, 8)} (${s.status})`,
          description: `Output of the ${s.agent} session in ${s.cwd}`,
          mimeType: 'application/json',
        })),
      }),
    }),
    { title: 'Session output', description: "A page of a session's output lines; ?since=<offset>&limit=<lines>, each optional, in any order", mimeType: 'application/json' },
    async (uri) => {
      const q = parseOutputUri(uri.href);
      const page = await asInvalidParams(() => ctx.sessions.read(q.sessionId, q.since, q.limit, Limits.outputPageBytes));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(page) }] };
    },
  );

  // Subscriptions: McpServer does not manage them, so the low-level handlers do.
  const subscribed = new Map<string, string>(); // sessionId → uri as the client wrote it
  const pending = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    const { sessionId } = parseOutputUri(req.params.uri);
    await asInvalidParams(() => ctx.sessions.info(sessionId)); // unknown ids fail here, with the usual message
    subscribed.set(sessionId, req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    const id = sessionIdOfUri(req.params.uri);
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
    }, ResourceTimeouts.updateMinIntervalMs);
    timers.add(t);
  };
  ctx.sessions.on('changed', onChanged);
  return () => {
    ctx.sessions.off('changed', onChanged);
    for (const t of timers) clearTimeout(t);
    subscribed.clear();
  };
}
