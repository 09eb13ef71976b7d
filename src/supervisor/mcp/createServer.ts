/**
 * One McpServer per client connection (the SDK binds a server to a single
 * transport), with the tools, the session-output resources and log
 * notifications. Everything it subscribes to is released when it closes.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerTools } from '../tools';
import type { ToolContext } from '../tools/context';
import { registerOutputResources } from './resources';

export const SERVER_NAME = 'agentvisor';

export function createMcpServer(ctx: ToolContext, version: string): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version },
    {
      capabilities: { logging: {} },
      instructions:
        'agentvisor runs coding agents (Claude Code, Codex) on its host. Start one with session_start, follow it with session_wait ' +
        '(or subscribe to its output resource), steer it with session_send, end it with session_kill; in mode "ask" answer its permission requests with session_approve. read_file and list_directory look inside the workspace.',
    },
  );
  registerTools(server, ctx);
  const disposeResources = registerOutputResources(server, ctx);
  // Session lifecycle as log notifications, at the level the client chose with logging/setLevel.
  const onLifecycle = (sessionId: string, status: string, detail: Record<string, unknown>) => {
    if (!server.isConnected()) return;
    // The SDK keeps the client's chosen level per transport session id, so pass ours.
    server.sendLoggingMessage({ level: status === 'lost' ? 'error' : 'info', logger: 'agentvisor', data: { sessionId, status, ...detail } }, server.server.transport?.sessionId).catch(() => undefined);
    server.sendResourceListChanged();
  };
  ctx.sessions.on('lifecycle', onLifecycle);
  // Mode ask: a request pending (or resolved) is told to every client as it happens, already journalled.
  const onApproval = (sessionId: string, detail: Record<string, unknown>) => {
    if (!server.isConnected()) return;
    const level = detail.event === 'approval_pending' ? 'warning' : 'info';
    server.sendLoggingMessage({ level, logger: 'agentvisor', data: { sessionId, ...detail } }, server.server.transport?.sessionId).catch(() => undefined);
  };
  ctx.sessions.on('approval', onApproval);
  const previous = server.server.onclose;
  server.server.onclose = () => {
    ctx.sessions.off('lifecycle', onLifecycle);
    ctx.sessions.off('approval', onApproval);
    disposeResources();
    previous?.();
  };
  return server;
}
