/** The one place that chooses a driver by agent: everything else in the worker is agent-blind. */
import { ClaudeDriver } from './claude';
import { CodexAppServerDriver } from './codexAppServer';
import { CodexExecDriver } from './codexExec';
import type { AgentDriver, DriverContext } from './driver';

export function createDriver(ctx: DriverContext): AgentDriver {
  if (ctx.spec.agent === 'claude-code') return new ClaudeDriver(ctx);
  return ctx.spec.codexProtocol === 'app-server' ? new CodexAppServerDriver(ctx) : new CodexExecDriver(ctx);
}
