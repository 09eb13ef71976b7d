/**
 * What every tool handler gets, and the two ways a tool answers: a result
 * (JSON text for clients that read text, the same object as structuredContent)
 * or a tool error a model can read and act on.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'winston';
import type { AgentCatalog } from '../agentCapabilities';
import type { Config } from '../config';
import type { FsPool } from '../fs/fsPool';
import { SessionError, type SessionManager } from '../sessionManager';

export interface ToolContext {
  config: Config;
  sessions: SessionManager;
  fsPool: FsPool;
  agents: AgentCatalog;
  log: Logger;
}

export function ok(data: object): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(data, null, 2) }],
    structuredContent: data as Record<string, unknown>,
  };
}

export function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/**
 * Runs a handler, turning expected failures (SessionError) into tool errors and
 * anything else into a generic one: internals are logged, never shown to a client.
 */
export async function guarded(ctx: ToolContext, tool: string, fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SessionError) return toolError(err.message);
    ctx.log.error('tool failed', { tool, error: (err as Error).stack ?? String(err) });
    return toolError(`${tool} failed unexpectedly: ${(err as Error).message}. The server is still running; see its log for details.`);
  }
}
