/**
 * Doctor: whether agents will be confined (issue 16), decided the way `serve` decides it.
 */
import type { Config } from '../../supervisor/config';
import { SandboxError, decideSandbox } from '../../supervisor/sandbox/probe';
import { type Check, fail, ok, warn } from './check';

const INSTALL =
  'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 where the distribution turned them off)';

export function sandboxCheck(config: Config, env: NodeJS.ProcessEnv): Check {
  try {
    const d = decideSandbox(config.SANDBOX, env.PATH);
    if (d.kind === 'bwrap') return ok('sandbox', `agents run confined by bubblewrap (${d.bin})`);
    if (d.warning) return warn('sandbox', d.warning, `${INSTALL}, or set SANDBOX=none to run agents unconfined on purpose`);
    return warn('sandbox', "SANDBOX=none: agents run unconfined and can read STATE_DIR (the token, the journal) and every session's files", `set SANDBOX=auto (the default) and ${INSTALL}`);
  } catch (err) {
    if (err instanceof SandboxError) return fail('sandbox', err.message, INSTALL);
    throw err;
  }
}
