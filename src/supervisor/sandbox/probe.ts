/**
 * Whether agents can be confined on this host (issue 16), decided once at start. SANDBOX=auto
 * takes bubblewrap when the binary is on PATH and a trial run works (some distributions forbid
 * the unprivileged user namespaces it needs, some containers forbid mounts), and otherwise runs
 * agents unconfined with one warning; SANDBOX=bwrap makes that failure stop start-up instead.
 */
import { spawnSync } from 'node:child_process';
import { findOnPath } from '../../shared/findExecutable';
import { ConfigError } from '../config';

export type SandboxSetting = 'auto' | 'bwrap' | 'none';

export type SandboxDecision =
  | { kind: 'bwrap'; bin: string }
  /** warning: why agents run unconfined although SANDBOX=auto asked for confinement (null: SANDBOX=none). */
  | { kind: 'none'; warning: string | null };

export const SandboxTimeouts = {
  /** The trial run starts node (doing nothing) in a fresh namespace: well under a second, unless the host is stuck. Fixed: only a hung bwrap reaches it. */
  trialMs: 10_000,
} as const;

/** The flags every confined agent gets that a host may refuse (namespaces, mounts), running node as the agent CLIs do. */
const TRIAL_ARGS = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--unshare-pid', '--die-with-parent', '--cap-drop', 'ALL', '--', process.execPath, '-e', ''];

/** Runs bwrap once the way agents are run; null when it works, else why not. */
export function trialRun(bin: string): string | null {
  const r = spawnSync(bin, TRIAL_ARGS, { encoding: 'utf8', timeout: SandboxTimeouts.trialMs, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) return r.error.message;
  if (r.status === 0) return null;
  const said = (r.stderr ?? '').trim().split('\n')[0]?.slice(0, 200);
  return `a trial run ${r.signal ? `ended by ${r.signal}` : `exited with ${r.status}`}${said ? `: ${said}` : ''}`;
}

/** SANDBOX=bwrap on a host where it cannot work: start-up stops with this one line. */
export class SandboxError extends ConfigError {}

export function decideSandbox(setting: SandboxSetting, pathVar: string | undefined = process.env.PATH): SandboxDecision {
  if (setting === 'none') return { kind: 'none', warning: null };
  const bin = findOnPath('bwrap', pathVar);
  const problem = bin ? trialRun(bin) : 'bwrap (bubblewrap) is not on PATH';
  if (bin && !problem) return { kind: 'bwrap', bin };
  if (setting === 'bwrap')
    throw new SandboxError(`SANDBOX=bwrap but agents cannot be confined: ${problem}. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or allow unprivileged user namespaces.`);
  return {
    kind: 'none',
    warning: `agents run UNCONFINED (SANDBOX=auto): ${problem}; an agent can read STATE_DIR (the token, the journal) and every session's files. Install bubblewrap to confine them, or set SANDBOX=none to say this is intended.`,
  };
}
