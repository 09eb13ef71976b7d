/**
 * What each installed agent CLI is and can do, found at start-up from its own
 * `--version` and `--help` (argv arrays, with a timeout), so agentvisor can refuse
 * an option a version cannot honour with a clear error instead of a confusing
 * failure inside the session.
 */
import { execFile } from 'node:child_process';
import type { AgentKind, AgentMode } from '../shared/protocol';
import { resolveAgentBinary } from './agentBinaries';

export const CapabilityTimeouts = {
  /** A CLI that has not answered --help in this long is broken or hung; report it as such. */
  detectMs: 10_000,
} as const;

export interface AgentCapabilities {
  agent: AgentKind;
  found: boolean;
  path: string | null;
  version: string | null;
  /** Modes this version can run (full always; edit/plan need the permission or sandbox flags; ask, the permission relay of issue 15). */
  modes: AgentMode[];
  supportsModel: boolean;
  supportsResume: boolean;
  /** Codex: its --help lists the `app-server` command (JSON-RPC on stdio, issue 14), so sessions can use it instead of `exec` under a PTY. */
  supportsAppServer: boolean;
  error: string | null;
}

/** What Claude's --help shows of mode ask's needs: stream-json input (the control protocol) and the "default" permission mode. */
const CLAUDE_ASK = ['--input-format', '--permission-mode', '"default"'];

/** A command line of `codex --help`'s command list: `  app-server   [experimental] Run the app server…`. */
const APP_SERVER_COMMAND = /^\s+app-server\s/m;

function run(bin: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    // No shell; stdin closed so a CLI that waits for input cannot hang detection.
    const child = execFile(bin, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    child.stdin?.end();
  });
}

export async function detectCapabilities(agent: AgentKind, configured: string | undefined, timeoutMs = CapabilityTimeouts.detectMs): Promise<AgentCapabilities> {
  const bin = resolveAgentBinary(agent, configured, process.env.PATH);
  const none: AgentCapabilities = { agent, found: false, path: null, version: null, modes: [], supportsModel: false, supportsResume: false, supportsAppServer: false, error: null };
  if (!bin.ok) return { ...none, error: bin.error };
  const [versionText, help, execHelp] = await Promise.all([
    run(bin.path, ['--version'], timeoutMs),
    run(bin.path, ['--help'], timeoutMs),
    agent === 'codex' ? run(bin.path, ['exec', '--help'], timeoutMs) : Promise.resolve(''),
  ]);
  const version = /\d+\.\d+\.\d+[\w.-]*/.exec(versionText)?.[0] ?? null;
  const text = help + execHelp;
  const modes: AgentMode[] = ['full'];
  if (agent === 'claude-code' ? text.includes('--permission-mode') : text.includes('--sandbox')) modes.push('edit', 'plan');
  const appServer = agent === 'codex' && APP_SERVER_COMMAND.test(help);
  // ask: Claude's permission prompts over stream-json (--permission-prompt-tool stdio, which 2.1.x's --help does not list, so
  // the stream-json input and the "default" permission mode stand for it); Codex's approval requests over app-server.
  if (agent === 'claude-code' ? CLAUDE_ASK.every((flag) => text.includes(flag)) : appServer) modes.push('ask');
  return {
    agent,
    found: true,
    path: bin.path,
    version,
    modes,
    supportsModel: text.includes('--model'),
    supportsResume: agent === 'claude-code' ? text.includes('--resume') : /\bresume\b/.test(text),
    supportsAppServer: appServer,
    error: version ? null : `${bin.path} --version printed no version`,
  };
}

export type CodexProtocolSetting = 'auto' | 'app-server' | 'exec';
export type CodexProtocolChoice = { ok: true; protocol: 'app-server' | 'exec' } | { ok: false; error: string };

export class AgentCatalog {
  private readonly caps = new Map<AgentKind, AgentCapabilities>();
  private detecting: Promise<void> = Promise.resolve();

  detect(bins: Record<AgentKind, string | undefined>): Promise<void> {
    this.detecting = Promise.all((Object.keys(bins) as AgentKind[]).map((a) => detectCapabilities(a, bins[a]))).then((results) => {
      for (const r of results) this.caps.set(r.agent, r);
    });
    return this.detecting;
  }

  /**
   * The protocol of a new Codex session under CODEX_PROTOCOL. `auto` waits for detection (it runs once, at
   * start-up), so a session started right away is not given exec just because --help had not answered yet.
   */
  async codexProtocol(setting: CodexProtocolSetting): Promise<CodexProtocolChoice> {
    if (setting === 'exec') return { ok: true, protocol: 'exec' };
    await this.detecting;
    const c = this.caps.get('codex');
    // A binary not found is reported where it is resolved; only a found CLI without the command is refused here.
    const lacks = c !== undefined && c.found && !c.supportsAppServer;
    if (setting === 'app-server' && lacks) {
      return {
        ok: false,
        error: `CODEX_PROTOCOL=app-server, but codex ${c.version ?? ''} at ${c.path} has no app-server command (its --help lacks it); upgrade Codex or set CODEX_PROTOCOL=auto or exec.`,
      };
    }
    return { ok: true, protocol: lacks || (setting === 'auto' && !c?.found) ? 'exec' : 'app-server' };
  }

  get(agent: AgentKind): AgentCapabilities | undefined {
    return this.caps.get(agent);
  }

  all(): AgentCapabilities[] {
    return [...this.caps.values()];
  }

  /** A clear refusal if a detected version cannot honour the request; null if it can (or nothing was detected yet). */
  refusal(agent: AgentKind, mode: AgentMode, model: string | null): string | null {
    const c = this.caps.get(agent);
    if (!c || !c.found) return null; // binary problems are reported when it is resolved
    if (!c.modes.includes(mode)) {
      return `${agent} ${c.version ?? ''} at ${c.path} does not support mode "${mode}" (its --help lacks the flag); supported: ${c.modes.join(', ')}. Upgrade the CLI or use another mode.`;
    }
    if (model && !c.supportsModel) return `${agent} ${c.version ?? ''} does not accept --model; omit model or upgrade the CLI.`;
    return null;
  }
}
