/**
 * Which variables a client may set in a session's `env` (session_start), in one
 * place. An allow-list: every program in an agent's stack (the agent CLI, node,
 * git, the shell, the dynamic loader, each language runtime) reads variables of
 * its own, more than any deny-list can name, and one of them was enough to turn
 * off the root guard (IS_SANDBOX) or send the operator's API key elsewhere
 * (ANTHROPIC_BASE_URL). So a name passes only if it is on the list below, or the
 * operator put it on SESSION_ENV_ALLOW. The families further down only explain a
 * refusal; they are not the gate.
 *
 * What the session env can never set, even with the operator's allowance, is
 * what agentvisor decides itself: the token, the root guard's switch, its own
 * and CHILD_ENV_ settings and what it sets for every agent.
 */

/** Knobs of a project's own code that change no one's credentials, configuration or loaded code. */
export const SESSION_ENV_ALLOWED = new Set(['CI', 'DEBUG', 'NODE_ENV', 'LOG_LEVEL', 'RUST_LOG', 'RUST_BACKTRACE', 'PYTHONUNBUFFERED', 'TZ']);
/** A namespace for the project's own variables (APP_DATABASE_URL, APP_MODE …), which no tool reads. */
export const SESSION_ENV_ALLOWED_PREFIXES = ['APP_'];

const hasPrefix = (name: string, prefixes: string[]) => prefixes.some((p) => name.startsWith(p));

/** Decided by agentvisor alone; a session asking for them is refused whatever the operator allows. */
const AGENTVISOR_OWN = new Set(['AUTH_TOKEN', 'IS_SANDBOX', 'TERM', 'NO_COLOR', 'PAGER', 'GIT_PAGER', 'CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SSE_PORT', 'CLAUDE_AGENT_SDK_VERSION']);
const AGENTVISOR_OWN_PREFIXES = ['AGENTVISOR_', 'CHILD_ENV_'];

const CREDENTIALS = new Set([
  'HOME',
  'USER',
  'LOGNAME',
  'NETRC',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GH_TOKEN',
  'GITHUB_TOKEN',
  'KUBECONFIG',
  'DOCKER_CONFIG',
  'DOCKER_HOST',
]);
const CREDENTIAL_PREFIXES = ['ANTHROPIC_', 'CLAUDE_', 'OPENAI_', 'CODEX_', 'AWS_', 'GOOGLE_', 'AZURE_', 'CLOUDSDK_', 'XDG_', 'GIT_', 'SSH_', 'GNUPG', 'NPM_CONFIG_', 'YARN_', 'PIP_', 'CARGO_'];

const RUNTIME = new Set([
  'PATH',
  'SHELL',
  'BASH_ENV',
  'ENV',
  'IFS',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'SHELLOPTS',
  'BASHOPTS',
  'TMPDIR',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'RES_OPTIONS',
  'LOCALDOMAIN',
  'LANG',
  'LANGUAGE',
  'EDITOR',
  'VISUAL',
  'BROWSER',
  'GOFLAGS',
  'GOPATH',
  'GOROOT',
  'GOBIN',
  'GOENV',
  'GOPROXY',
  'GOTOOLCHAIN',
]);
const RUNTIME_PREFIXES = ['LD_', 'DYLD_', 'NODE_', 'NPM_', 'PYTHON', 'JAVA_', '_JAVA_', 'JDK_', 'PERL', 'RUBY', 'GEM_', 'LC_', 'MALLOC_', 'BUN_', 'DENO_'];

/** Operator allowances from SESSION_ENV_ALLOW: `NAME` or `PREFIX_*`, comma-separated. */
export function parseSessionEnvAllow(raw: string | undefined): { names: Set<string>; prefixes: string[] } {
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const item of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (item.endsWith('*')) prefixes.push(item.slice(0, -1));
    else names.add(item);
  }
  return { names, prefixes };
}

const HOW_TO_ALLOW = 'the operator can pass it to every agent with CHILD_ENV_<NAME>, or let sessions set it with SESSION_ENV_ALLOW';

/** Why a session may not set `name`, or null if it may. */
export function sessionEnvRefusal(name: string, operatorAllow: string | undefined = undefined): string | null {
  if (AGENTVISOR_OWN.has(name) || hasPrefix(name, AGENTVISOR_OWN_PREFIXES)) {
    const what =
      name === 'IS_SANDBOX'
        ? 'whether Claude Code may run with full permissions as root; only the operator decides that, with CHILD_ENV_IS_SANDBOX=1'
        : 'a setting agentvisor owns (its token, its configuration, or what it sets for every agent)';
    return `env.${name} is refused: it would change a decision agentvisor makes itself (${what}).`;
  }
  const allow = parseSessionEnvAllow(operatorAllow);
  if (SESSION_ENV_ALLOWED.has(name) || hasPrefix(name, SESSION_ENV_ALLOWED_PREFIXES)) return null;
  if (allow.names.has(name) || hasPrefix(name, allow.prefixes)) return null;
  if (CREDENTIALS.has(name) || hasPrefix(name, CREDENTIAL_PREFIXES) || name.endsWith('_PROXY')) {
    return `env.${name} is refused: it would change where the agents' credentials, configuration or network endpoints come from; ${HOW_TO_ALLOW}.`;
  }
  if (RUNTIME.has(name) || hasPrefix(name, RUNTIME_PREFIXES)) {
    return `env.${name} is refused: it would change which programs or code the agent and its tools load; ${HOW_TO_ALLOW}.`;
  }
  return (
    `env.${name} is refused: a session may set only ${[...SESSION_ENV_ALLOWED].join(', ')} and names starting with ` +
    `${SESSION_ENV_ALLOWED_PREFIXES.join(', ')} (for your project's own variables)${allow.names.size + allow.prefixes.length ? ', plus what SESSION_ENV_ALLOW lists' : ''}; ${HOW_TO_ALLOW}.`
  );
}
