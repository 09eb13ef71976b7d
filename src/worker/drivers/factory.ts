/** The one place that chooses a driver by agent: everything else in the worker is agent-blind. */
import { ClaudeDriver } from './claude';
import { CodexAppServerDriver } from './codexAppServer';
import { CodexExecDriver } from './codexExec';
import { sessionProtocol } from '../../shared/protocol';
import type { AgentDriver, DriverContext } from './driver';

/** By the protocol session info reports (`sessionProtocol`), so what ran and what is said to have run cannot differ. */
export function createDriver(ctx: DriverContext): AgentDriver {
  switch (sessionProtocol(ctx.spec)) {
    case 'claude':
      return new ClaudeDriver(ctx);
    case 'codex-app-server':
      return new CodexAppServerDriver(ctx);
    case 'codex-exec':
      return new CodexExecDriver(ctx);
  }
}
