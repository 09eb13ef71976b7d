/**
 * Mode ask at the MCP edge (issue 15): who a client's answer is recorded as, and
 * elicitation — a client that declared the `elicitation` capability and waits on a
 * session (session_wait, session_start {waitMs}) is asked about each pending
 * request with `elicitation/create`, on that request's own stream, and its answer
 * is applied. Decline or cancel leave the request pending for someone else (not a
 * deny); a client without the capability is never sent one. Each request is put
 * to a connection once: a client that declined is not asked again in a loop.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ApprovalDecision } from '../../shared/protocol';
import { ApprovalBounds } from '../approvalStore';
import type { ApproveReply } from '../sessionManager';
import type { ToolContext } from './context';
import type { Extra } from './waiting';

/** The operator CLI's MCP client name (cli/server.ts): its answers are recorded as `cli`. */
const CLI_CLIENT_NAME = 'agentvisor-cli';

/** decidedBy of an answer given over this connection. */
export function decidedByOf(server: McpServer, extra: Extra): string {
  if (server.server.getClientVersion()?.name === CLI_CLIENT_NAME) return 'cli';
  return `connection:${extra.sessionId ?? 'stdio'}`;
}

export function canElicit(server: McpServer): boolean {
  return Boolean(server.server.getClientCapabilities()?.elicitation?.form);
}

const asked = new WeakMap<McpServer, Set<string>>();
const shown = new WeakMap<McpServer, Map<string, Set<string>>>();

/**
 * The pending requests of a session this connection's session_wait already returned: a wait
 * returns at once for a new one, not again and again for the same (a client that only follows
 * output would otherwise spin on it, and run into the rate limit).
 */
export function shownApprovals(server: McpServer, sessionId: string): Set<string> {
  let bySession = shown.get(server);
  if (!bySession) shown.set(server, (bySession = new Map()));
  let ids = bySession.get(sessionId);
  if (!ids) bySession.set(sessionId, (ids = new Set()));
  return ids;
}

const DECISION_TITLES: Record<ApprovalDecision, string> = {
  allow: 'Allow once',
  allow_for_session: 'Allow for the rest of this session',
  deny: 'Deny',
};

/**
 * Asks the client about each pending request of the session it has not been asked about;
 * returns the answers applied. Bounded by `timeoutMs` and the request's cancellation.
 */
export async function elicitPending(ctx: ToolContext, server: McpServer, extra: Extra, sessionId: string, timeoutMs: number): Promise<ApproveReply[]> {
  if (!canElicit(server) || extra.signal.aborted) return [];
  let seen = asked.get(server);
  if (!seen) asked.set(server, (seen = new Set()));
  const applied: ApproveReply[] = [];
  const deadline = Date.now() + timeoutMs;
  for (const a of ctx.sessions.listApprovals({ sessionId, pendingOnly: true })) {
    const key = `${sessionId}/${a.approvalId}`;
    const left = deadline - Date.now();
    if (seen.has(key) || left <= 0 || extra.signal.aborted) continue;
    seen.add(key);
    const decisions = a.decisions.filter((d): d is ApprovalDecision => d in DECISION_TITLES);
    let result;
    try {
      result = await server.server.elicitInput(
        {
          mode: 'form',
          message: `agentvisor session ${sessionId.slice(0, 8)} asks for permission: ${a.summary}`,
          requestedSchema: {
            type: 'object',
            properties: {
              decision: { type: 'string', title: 'Decision', oneOf: decisions.map((d) => ({ const: d, title: DECISION_TITLES[d] })) },
              message: { type: 'string', title: 'Message to the agent (optional; shown with a deny)', maxLength: ApprovalBounds.messageChars },
            },
            required: ['decision'],
          },
        },
        { relatedRequestId: extra.requestId, signal: extra.signal, timeout: left },
      );
    } catch (err) {
      // No answer in time, the client left, or it answered off-schema: the request stays pending for anyone else.
      ctx.log.info('elicitation for an approval got no usable answer', { sessionId, approvalId: a.approvalId, error: (err as Error).message });
      continue;
    }
    if (result.action !== 'accept' || !result.content) continue; // decline / cancel: not a deny
    const decision = result.content.decision;
    if (typeof decision !== 'string' || !decisions.includes(decision as ApprovalDecision)) continue;
    const message = typeof result.content.message === 'string' && result.content.message.length > 0 ? result.content.message : null;
    try {
      applied.push(await ctx.sessions.approve(sessionId, a.approvalId, decision as ApprovalDecision, message, decidedByOf(server, extra)));
    } catch (err) {
      ctx.log.warn('could not apply an elicited approval', { sessionId, approvalId: a.approvalId, error: (err as Error).message });
    }
  }
  return applied;
}
