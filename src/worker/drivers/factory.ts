/** The one place that chooses a driver by agent: everything else in the worker is agent-blind. */
import { ClaudeDriver } from './claude';
import { CodexExecDriver } from './codexExec';
import type { AgentDriver, DriverContext } from './driver';

export function createDriver(ctx: DriverContext): AgentDriver {
  return ctx.spec.agent === 'claude-code' ? new ClaudeDriver(ctx) : new CodexExecDriver(ctx);
}
