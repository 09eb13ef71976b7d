/** Every tool agentvisor offers, registered on one McpServer (one per client connection, whatever its transport). */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolContext } from './context';
import { registerListDirectoryTool } from './listDirectory';
import { registerReadFileTool } from './readFile';
import { registerSessionApproveTool } from './sessionApprove';
import { registerSessionDiffTool } from './sessionDiff';
import { registerSessionKillTool } from './sessionKill';
import { registerSessionListTool } from './sessionList';
import { registerSessionOutputTool } from './sessionOutput';
import { registerSessionSendTool } from './sessionSend';
import { registerSessionStartTool } from './sessionStart';
import { registerSessionWaitTool } from './sessionWait';

export function registerTools(server: McpServer, ctx: ToolContext): void {
  registerSessionStartTool(server, ctx);
  registerSessionSendTool(server, ctx);
  registerSessionOutputTool(server, ctx);
  registerSessionWaitTool(server, ctx);
  registerSessionListTool(server, ctx);
  registerSessionKillTool(server, ctx);
  registerSessionDiffTool(server, ctx);
  registerSessionApproveTool(server, ctx);
  registerReadFileTool(server, ctx);
  registerListDirectoryTool(server, ctx);
}
