import type { AllowedRoot } from '../fs/pathGuard';
import type { ToolContext } from './context';

/** Where the file tools may look: the workspace first (relative paths resolve there), then running sessions' cwds as pinned at start. */
export function allowedRoots(ctx: ToolContext): AllowedRoot[] {
  return [ctx.config.WORKSPACE_DIR, ...ctx.sessions.activeCwds()];
}
