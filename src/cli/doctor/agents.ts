/**
 * Doctor: the agent CLIs, their credentials, and root with the Claude sandbox opt-in.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentKind } from '../../shared/protocol';
import { AGENT_BINARY, resolveAgentBinary } from '../../supervisor/agentBinaries';
import type { Config } from '../../supervisor/config';
import { type Check, fail, firstLine, ok, warn } from './check';
import { DoctorTimeouts } from './timeouts';

/** `<bin> --version` with a timeout: no shell, stdin closed, the agents' own environment. */
export function agentVersion(bin: string, env: Record<string, string>): Promise<{ version: string } | { error: string }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const child = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: os.tmpdir(), env, detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      resolve({ error: `it did not answer within ${DoctorTimeouts.versionMs / 1000} s` });
    }, DoctorTimeouts.versionMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 4096)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 4096)));
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && firstLine(out || err)) resolve({ version: firstLine(out || err) });
      else resolve({ error: `it exited with ${code ?? signal}${firstLine(err) ? `: ${firstLine(err)}` : ''}` });
    });
  });
}

export interface AgentFound {
  agent: AgentKind;
  path: string | null;
  check: Check;
}

export async function agentCheck(agent: AgentKind, config: Config, env: NodeJS.ProcessEnv, childEnv: Record<string, string>): Promise<AgentFound> {
  const b = AGENT_BINARY[agent];
  const configured = agent === 'claude-code' ? config.CLAUDE_BIN : config.CODEX_BIN;
  const resolved = resolveAgentBinary(agent, configured, env.PATH);
  if (!resolved.ok) {
    const check = configured
      ? fail(b.name, `${b.envVar}=${configured} is not an executable file`, `set ${b.envVar} to the ${b.name} executable, or unset it to search PATH`)
      : warn(b.name, `${b.name} is not on PATH: sessions with agent ${agent} cannot start`, `npm install -g ${b.pkg}, or set ${b.envVar} to its path`);
    return { agent, path: null, check };
  }
  const v = await agentVersion(resolved.path, childEnv);
  const check =
    'version' in v
      ? ok(b.name, `${b.name} ${v.version} (${resolved.path})`)
      : warn(b.name, `found ${resolved.path}, but "${b.name} --version" failed: ${v.error}`, `reinstall it (npm install -g ${b.pkg}) or point ${b.envVar} at a working ${b.name}`);
  return { agent, path: resolved.path, check };
}

const present = (env: Record<string, string>, name: string) => (env[name] ?? '') !== '';

/** Whether each agent will find credentials, from what the server passes it. Never shows a value. */
export function credentialsCheck(agent: AgentKind, childEnv: Record<string, string>): Check {
  const home = childEnv.HOME || os.homedir();
  if (agent === 'claude-code') {
    const vars = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'].filter((n) => present(childEnv, n));
    if (vars.length) return ok('claude credentials', `${vars.join(', ')} set for the agents (value not shown)`);
    const file = path.join(childEnv.CLAUDE_CONFIG_DIR || path.join(home, '.claude'), '.credentials.json');
    if (fs.existsSync(file)) return ok('claude credentials', `found ${file}`);
    return warn(
      'claude credentials',
      `no Claude credentials: ANTHROPIC_API_KEY is not set for the agents and ${file} does not exist; Claude sessions will fail to authenticate`,
      'export ANTHROPIC_API_KEY (or CHILD_ENV_ANTHROPIC_API_KEY) where the server starts, or log in once with claude (as the user agentvisor runs as)',
    );
  }
  const vars = ['OPENAI_API_KEY', 'CODEX_API_KEY'].filter((n) => present(childEnv, n));
  if (vars.length) return ok('codex credentials', `${vars.join(', ')} set for the agents (value not shown)`);
  const file = path.join(childEnv.CODEX_HOME || path.join(home, '.codex'), 'auth.json');
  if (fs.existsSync(file)) return ok('codex credentials', `found ${file}`);
  return warn(
    'codex credentials',
    `no Codex credentials: OPENAI_API_KEY is not set for the agents and ${file} does not exist; Codex sessions will fail to authenticate`,
    'export OPENAI_API_KEY (or CHILD_ENV_OPENAI_API_KEY) where the server starts, or log in once with codex login (as the user agentvisor runs as)',
  );
}

export function userCheck(claudeFound: boolean, childEnv: Record<string, string>): Check {
  const uid = process.getuid?.();
  const user = os.userInfo().username;
  if (uid !== 0) return ok('user', `running as ${user} (uid ${uid ?? '?'}), not root`);
  if (childEnv.IS_SANDBOX === '1') return ok('user', 'running as root with CHILD_ENV_IS_SANDBOX=1: Claude Code runs with full permissions (right for a container or sandbox)');
  if (!claudeFound)
    return warn(
      'user',
      'running as root; Claude Code (not found here) would refuse full-permission sessions',
      'in a container or sandbox set CHILD_ENV_IS_SANDBOX=1; otherwise run agentvisor as a normal user',
    );
  return fail(
    'user',
    'running as root without CHILD_ENV_IS_SANDBOX=1: Claude Code refuses full-permission sessions as root, so they fail to start',
    'if this host is a container or sandbox, set CHILD_ENV_IS_SANDBOX=1 for the server; otherwise run agentvisor as a normal user',
  );
}
