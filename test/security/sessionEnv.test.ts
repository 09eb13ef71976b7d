/**
 * A session's `env` (session_start) is an allow-list (src/supervisor/sessionEnvPolicy.ts):
 * it cannot turn off the root guard, nor change where the agents' credentials,
 * configuration or code come from. Each refusal reaches the client with its
 * reason, never as a bare "Invalid key in record". The server runs as the tests
 * do (root) but without CHILD_ENV_IS_SANDBOX, the situation in which the
 * session's IS_SANDBOX=1 used to start Claude with --dangerously-skip-permissions.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect } from '../helpers/server';
import { finish, startSecurityServer } from './support';

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startSecurityServer({ CHILD_ENV_IS_SANDBOX: '', SESSION_ENV_ALLOW: 'FOO_BAR, MYAPP_*, IS_SANDBOX' });
  client = await connect(server, 'http');
});

afterAll(async () => {
  await finish(server, [client]);
});

const start = (env: Record<string, string>, agent = 'claude-code') => ({ agent, cwd: 'env', task: 'hello', env });

test("env IS_SANDBOX=1 does not get past the root guard (even listed in SESSION_ENV_ALLOW): refused, naming the operator's switch", async () => {
  const text = await callError(client, 'session_start', start({ IS_SANDBOX: '1' }));
  expect(text).toMatch(/env\.IS_SANDBOX is refused: it would change a decision agentvisor makes itself/);
  expect(text).toContain('CHILD_ENV_IS_SANDBOX=1');
  // Without the session's say-so the guard still refuses full mode as root (the tests run as root).
  expect(process.getuid?.()).toBe(0);
  expect(await callError(client, 'session_start', start({}))).toMatch(/refuses full-permission mode/);
});

test.each([
  ['ANTHROPIC_BASE_URL', /credentials, configuration or network endpoints/],
  ['CLAUDE_CONFIG_DIR', /credentials, configuration or network endpoints/],
  ['CODEX_HOME', /credentials, configuration or network endpoints/],
  ['GIT_CONFIG_GLOBAL', /credentials, configuration or network endpoints/],
  ['HTTPS_PROXY', /credentials, configuration or network endpoints/],
  ['PYTHONHOME', /which programs or code the agent and its tools load/],
  ['GCONV_PATH', /which programs or code the agent and its tools load/],
  ['JAVA_TOOL_OPTIONS', /which programs or code the agent and its tools load/],
  ['PATH', /which programs or code the agent and its tools load/],
  ['LD_PRELOAD', /which programs or code the agent and its tools load/],
  ['AUTH_TOKEN', /a decision agentvisor makes itself/],
  ['SOMETHING_ELSE', /a session may set only .*APP_/],
])('env.%s is refused with its reason', async (name, why) => {
  const text = await callError(client, 'session_start', start({ [name]: 'x' }, 'codex'));
  expect(text).toContain(`env.${name} is refused`);
  expect(text).toMatch(why);
  expect(text).not.toMatch(/Invalid key in record/);
});

test('a malformed name is refused with the rule it breaks', async () => {
  const text = await callError(client, 'session_start', start({ 'lower-case': 'x' }, 'codex'));
  expect(text).toMatch(/env names must match \[A-Z_\]\[A-Z0-9_\]\*/);
  expect(text).not.toMatch(/Invalid key in record/);
});

test('allowed names, and those the operator allows with SESSION_ENV_ALLOW, reach the agent', async () => {
  const s = await call(client, 'session_start', { ...start({ APP_MODE: 'demo', NODE_ENV: 'test', DEBUG: '*', FOO_BAR: 'op', MYAPP_X: 'y' }, 'codex'), task: 'env' });
  await call(client, 'session_wait', { sessionId: s.sessionId, timeoutMs: 10_000 });
  const out = await call(client, 'session_output', { sessionId: s.sessionId });
  const printed = out.lines.find((l: string) => l.startsWith('{') && l.includes('APP_MODE'));
  expect(JSON.parse(printed)).toMatchObject({ APP_MODE: 'demo', NODE_ENV: 'test', DEBUG: '*', FOO_BAR: 'op', MYAPP_X: 'y' });
});
