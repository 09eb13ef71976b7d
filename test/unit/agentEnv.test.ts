import { DENIED_VARS, NESTED_AGENT_VARS, agentEnv } from '../../src/supervisor/agentEnv';

const parent: NodeJS.ProcessEnv = {
  PATH: '/usr/local/bin:/usr/bin',
  HOME: '/home/op',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_CTYPE: 'C.UTF-8',
  ANTHROPIC_API_KEY: 'sk-ant-x',
  OPENAI_API_KEY: 'sk-openai-x',
  HTTPS_PROXY: 'http://proxy:3128',
  AUTH_TOKEN: 'server-bearer-token-value',
  CLAUDECODE: '1',
  CLAUDE_CODE_ENTRYPOINT: 'cli',
  CLAUDE_CODE_SSE_PORT: '12345',
  PORT: '3500',
  STATE_DIR: '/var/lib/agentvisor',
  SECRET_THING: 'do-not-leak',
  CHILD_ENV_FOO: 'raw-prefixed-should-not-pass',
  AWS_SECRET_ACCESS_KEY: 'aws',
  UNDEFINED_ONE: undefined,
};

describe('agentEnv', () => {
  test('whitelisted variables are forwarded', () => {
    const env = agentEnv(parent, {});
    expect(env.PATH).toBe('/usr/local/bin:/usr/bin');
    expect(env.HOME).toBe('/home/op');
    expect(env.LANG).toBe('en_US.UTF-8');
    expect(env.LC_ALL).toBe('C.UTF-8');
    expect(env.LC_CTYPE).toBe('C.UTF-8');
    expect(env.ANTHROPIC_API_KEY).toBe('sk-ant-x');
    expect(env.OPENAI_API_KEY).toBe('sk-openai-x');
    expect(env.HTTPS_PROXY).toBe('http://proxy:3128');
  });

  test('server settings and unrelated variables are not forwarded', () => {
    const env = agentEnv(parent, {});
    for (const name of ['PORT', 'STATE_DIR', 'SECRET_THING', 'CHILD_ENV_FOO', 'AWS_SECRET_ACCESS_KEY', 'UNDEFINED_ONE']) {
      expect(env).not.toHaveProperty(name);
    }
    expect(Object.values(env)).not.toContain('do-not-leak');
  });

  test('AUTH_TOKEN and the nested-agent markers are never forwarded from the parent', () => {
    const env = agentEnv(parent, {});
    for (const name of ['AUTH_TOKEN', 'CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SSE_PORT']) {
      expect(env).not.toHaveProperty(name);
    }
  });

  test('denied variables are dropped even when asked for via childEnv or sessionEnv', () => {
    const asked = { AUTH_TOKEN: 'x', CLAUDECODE: '1', CLAUDE_CODE_ENTRYPOINT: 'sdk', CLAUDE_AGENT_SDK_VERSION: '1' };
    const env = agentEnv(parent, asked, asked);
    for (const name of Object.keys(asked)) expect(env).not.toHaveProperty(name);
  });

  test('every denied name is covered, including all nested-agent markers', () => {
    expect(DENIED_VARS.has('AUTH_TOKEN')).toBe(true);
    for (const name of NESTED_AGENT_VARS) expect(DENIED_VARS.has(name)).toBe(true);
    const everything = Object.fromEntries([...DENIED_VARS].map((n) => [n, 'v']));
    const env = agentEnv(everything, everything, everything);
    for (const name of DENIED_VARS) expect(env).not.toHaveProperty(name);
  });

  test('CHILD_ENV values are applied, override the parent, and sessionEnv overrides both', () => {
    const env = agentEnv(parent, { FOO: 'bar', LANG: 'de_DE.UTF-8', SHARED: 'child' }, { SHARED: 'session', ONLY_SESSION: '1' });
    expect(env.FOO).toBe('bar');
    expect(env.LANG).toBe('de_DE.UTF-8');
    expect(env.SHARED).toBe('session');
    expect(env.ONLY_SESSION).toBe('1');
  });

  test('terminal and pager settings are fixed, NO_COLOR only defaulted', () => {
    const env = agentEnv({ ...parent, TERM: 'dumb', PAGER: 'less' }, {});
    expect(env.TERM).toBe('xterm-256color');
    expect(env.PAGER).toBe('cat');
    expect(env.GIT_PAGER).toBe('cat');
    expect(env.NO_COLOR).toBe('1');
    expect(agentEnv(parent, { NO_COLOR: '0' }).NO_COLOR).toBe('0');
  });

  test('the parent environment object is not modified', () => {
    const copy = { ...parent };
    agentEnv(parent, { FOO: 'bar' });
    expect(parent).toEqual(copy);
  });
});
