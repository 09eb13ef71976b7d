/**
 * Answers to `codex app-server`'s requests to its client. Sessions run with approval policy
 * `never`, so Codex should not ask; when it does anyway (a permission escalation, a future
 * CLI), the answer follows the session's mode: full accepts, edit accepts file changes only,
 * plan declines. Issue 15 replaces this with a relay to the MCP client behind the same
 * `ServerRequestAnswerer` shape.
 *
 * A request of a kind we do not serve (user input, MCP elicitation, dynamic tools, auth
 * refresh) gets a JSON-RPC error at once: left unanswered, it would hold the turn for good.
 */
import type { AgentMode } from '../../shared/protocol';
import { RpcError, RpcErrorCode } from './jsonRpcLines';

/** The result for a server request, or a thrown/rejected RpcError. */
export type ServerRequestAnswerer = (method: string, params: unknown) => unknown;

/** The server requests that are approvals, and what accepting/declining each one is on the wire. */
const APPROVALS = new Map<string, { accept: unknown; decline: unknown; isEdit: boolean }>(Object.entries({
  'item/commandExecution/requestApproval': { accept: { decision: 'accept' }, decline: { decision: 'decline' }, isEdit: false },
  'item/fileChange/requestApproval': { accept: { decision: 'accept' }, decline: { decision: 'decline' }, isEdit: true },
  // Granting nothing is the refusal; accepting grants for this turn only (an empty profile
  // would grant nothing either, so full mode echoes what was asked).
  'item/permissions/requestApproval': { accept: null, decline: { permissions: {}, scope: 'turn' }, isEdit: false },
  // The v1 names, still in 0.169's ServerRequest.
  applyPatchApproval: { accept: { decision: 'approved' }, decline: { decision: 'denied' }, isEdit: true },
  execCommandApproval: { accept: { decision: 'approved' }, decline: { decision: 'denied' }, isEdit: false },
}));

/** The answerer for a session in `mode` until approvals are relayed. */
export function modeAnswerer(mode: AgentMode): ServerRequestAnswerer {
  return (method, params) => {
    const a = APPROVALS.get(method); // a Map: `__proto__` or `toString` from the agent is no approval
    if (!a) throw new RpcError(RpcErrorCode.methodNotFound, `agentvisor does not serve ${method}`);
    const accept = mode === 'full' || (mode === 'edit' && a.isEdit);
    if (!accept) return a.decline;
    if (a.accept !== null) return a.accept;
    const asked = (params && typeof params === 'object' ? (params as { permissions?: unknown }).permissions : undefined) ?? {};
    return { permissions: asked, scope: 'turn' };
  };
}
