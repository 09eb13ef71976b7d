/**
 * What an agent may see of our environment: a whitelist (enough to find tools,
 * render text, reach a proxy and authenticate to its model provider) plus the
 * operator's CHILD_ENV_* values. Never AUTH_TOKEN, never our other settings,
 * never the variables by which a parent Claude Code marks its children (a
 * nested agent that sees them misbehaves).
 */

const EXACT = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  'XDG_RUNTIME_DIR',
  // The agents' own credentials and endpoints: an operator who exports them expects agents to use them.
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_MODEL',
  'CLAUDE_CONFIG_DIR',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'CODEX_HOME',
]);
const PREFIXES = ['LC_'];

/** Set by a parent Claude Code; inherited, they make a nested one think it is a sub-process. */
export const NESTED_AGENT_VARS = new Set(['CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SSE_PORT', 'CLAUDE_AGENT_SDK_VERSION']);

/** Never forwarded, whatever asks for it (also refused as per-session env names). */
export const DENIED_VARS = new Set(['AUTH_TOKEN', ...NESTED_AGENT_VARS]);

export function agentEnv(parent: NodeJS.ProcessEnv, childEnv: Record<string, string>, sessionEnv: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined || DENIED_VARS.has(k)) continue;
    if (EXACT.has(k) || PREFIXES.some((p) => k.startsWith(p))) env[k] = v;
  }
  for (const [k, v] of Object.entries({ ...childEnv, ...sessionEnv })) {
    if (!DENIED_VARS.has(k)) env[k] = v;
  }
  env.TERM = 'xterm-256color';
  // Tell the agents' own tooling not to page or colour what a machine reads.
  env.NO_COLOR = env.NO_COLOR ?? '1';
  env.PAGER = 'cat';
  env.GIT_PAGER = 'cat';
  return env;
}
