import type { ToolContext } from './context';

/** Where the file tools may look: the workspace first (relative paths resolve there), then running sessions' cwds. */
export function allowedRoots(ctx: ToolContext): string[] {
  return [ctx.config.WORKSPACE_DIR, ...ctx.sessions.activeCwds()];
}
