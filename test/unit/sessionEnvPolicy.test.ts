import { SESSION_ENV_ALLOWED, sessionEnvRefusal } from '../../src/supervisor/sessionEnvPolicy';

describe('sessionEnvRefusal', () => {
  test('the built-in allow-list and the APP_ namespace pass', () => {
    for (const name of [...SESSION_ENV_ALLOWED, 'APP_DATABASE_URL', 'APP_X']) expect({ name, why: sessionEnvRefusal(name) }).toEqual({ name, why: null });
  });

  test('anything else is refused, each family with its reason', () => {
    expect(sessionEnvRefusal('IS_SANDBOX')).toMatch(/decision agentvisor makes itself.*CHILD_ENV_IS_SANDBOX/);
    for (const name of ['ANTHROPIC_BASE_URL', 'CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'GIT_CONFIG_GLOBAL', 'HOME', 'no_proxy'.toUpperCase()]) {
      expect(sessionEnvRefusal(name)).toMatch(/credentials, configuration or network endpoints/);
    }
    for (const name of ['PYTHONHOME', 'GCONV_PATH', 'JAVA_TOOL_OPTIONS', 'NODE_OPTIONS', 'LD_PRELOAD', 'GOFLAGS']) {
      expect(sessionEnvRefusal(name)).toMatch(/which programs or code/);
    }
    expect(sessionEnvRefusal('FOO_BAR')).toMatch(/a session may set only/);
  });

  test("the operator can widen the list with SESSION_ENV_ALLOW, but never to agentvisor's own settings", () => {
    const allow = 'FOO_BAR, MYAPP_*, ANTHROPIC_MODEL, IS_SANDBOX, AGENTVISOR_*';
    expect(sessionEnvRefusal('FOO_BAR', allow)).toBeNull();
    expect(sessionEnvRefusal('MYAPP_DB', allow)).toBeNull();
    expect(sessionEnvRefusal('ANTHROPIC_MODEL', allow)).toBeNull();
    expect(sessionEnvRefusal('IS_SANDBOX', allow)).toMatch(/agentvisor makes itself/);
    expect(sessionEnvRefusal('AGENTVISOR_X', allow)).toMatch(/agentvisor makes itself/);
    expect(sessionEnvRefusal('FOO_BAZ', allow)).toMatch(/plus what SESSION_ENV_ALLOW lists/);
  });
});
