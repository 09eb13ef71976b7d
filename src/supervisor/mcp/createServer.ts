/** One McpServer per client connection: the SDK binds a server to a single transport. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerTools } from '../tools';
import type { ToolContext } from '../tools/context';

export const SERVER_NAME = 'agentvisor';

export function createMcpServer(ctx: ToolContext, version: string): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version },
    {
      capabilities: { logging: {} },
      instructions:
        'agentvisor runs coding agents (Claude Code, Codex) on its host. Start one with session_start, follow it with session_wait, ' +
        'steer it with session_send, end it with session_kill. read_file and list_directory look inside the workspace.',
    },
  );
  registerTools(server, ctx);
  return server;
}
