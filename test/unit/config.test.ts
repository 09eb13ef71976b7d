import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, readDotEnv } from '../../src/supervisor/config';

let emptyDir: string;
let dotEnvDir: string;

beforeAll(() => {
  emptyDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'config-empty-')));
  dotEnvDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'config-dotenv-')));
  fs.writeFileSync(
    path.join(dotEnvDir, '.env'),
    ['# comment', 'PORT=4100', 'export HOST=0.0.0.0', 'MAX_SESSIONS = 7', 'LOG_LEVEL="debug"', "CHILD_ENV_FROM_FILE='file value'", 'not a variable line', ''].join('\n'),
  );
});

afterAll(() => {
  fs.rmSync(emptyDir, { recursive: true, force: true });
  fs.rmSync(dotEnvDir, { recursive: true, force: true });
});

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env, emptyDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  test('defaults with an empty environment', () => {
    const c = loadConfig({}, emptyDir);
    expect(c.PORT).toBe(3500);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.MAX_SESSIONS).toBe(20);
    expect(c.RATE_LIMIT_RPM).toBe(120);
    expect(c.IDLE_TIMEOUT).toBe(1_800_000);
    expect(c.LOG_LEVEL).toBe('info');
    expect(c.WORKSPACE_DIR).toBe(emptyDir);
    expect(c.AUTH_TOKEN).toBeUndefined();
    expect(c.ALLOWED_HOSTS).toEqual([]);
    expect(c.childEnv).toEqual({});
  });

  test('STATE_DIR defaults under XDG_STATE_HOME', () => {
    expect(loadConfig({ XDG_STATE_HOME: '/xdg/state' }, emptyDir).STATE_DIR).toBe('/xdg/state/agentvisor');
  });

  test('values are coerced from strings, and relative dirs resolve against cwd', () => {
    const c = loadConfig({ PORT: '0', MAX_SESSIONS: '3', WORKSPACE_DIR: 'ws', STATE_DIR: '/abs/state', ALLOWED_HOSTS: 'a.example, b.example,,' }, emptyDir);
    expect(c.PORT).toBe(0);
    expect(c.MAX_SESSIONS).toBe(3);
    expect(c.WORKSPACE_DIR).toBe(path.join(emptyDir, 'ws'));
    expect(c.STATE_DIR).toBe('/abs/state');
    expect(c.ALLOWED_HOSTS).toEqual(['a.example', 'b.example']);
  });

  test('budget defaults: none unless set, numbers when set', () => {
    expect(loadConfig({}, emptyDir)).toMatchObject({ DEFAULT_MAX_COST_USD: undefined, DEFAULT_MAX_TOKENS: undefined, DEFAULT_MAX_TURNS: undefined, DEFAULT_MAX_DURATION_MS: undefined });
    expect(loadConfig({ DEFAULT_MAX_COST_USD: '0.25', DEFAULT_MAX_TOKENS: '1000', DEFAULT_MAX_TURNS: '3', DEFAULT_MAX_DURATION_MS: '60000' }, emptyDir)).toMatchObject({
      DEFAULT_MAX_COST_USD: 0.25,
      DEFAULT_MAX_TOKENS: 1000,
      DEFAULT_MAX_TURNS: 3,
      DEFAULT_MAX_DURATION_MS: 60_000,
    });
  });

  test('an empty value means the default', () => {
    expect(loadConfig({ PORT: '', MAX_SESSIONS: '' }, emptyDir)).toMatchObject({ PORT: 3500, MAX_SESSIONS: 20 });
  });

  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['MAX_SESSIONS', '0'],
    ['MAX_SESSIONS', 'many'],
    ['LOG_LEVEL', 'loud'],
    ['IDLE_TIMEOUT', '0'],
    ['DEFAULT_MAX_COST_USD', '0'],
    ['DEFAULT_MAX_COST_USD', 'cheap'],
    ['DEFAULT_MAX_TOKENS', '1.5'],
    ['DEFAULT_MAX_TURNS', '-3'],
    ['DEFAULT_MAX_DURATION_MS', '0'],
  ])('invalid %s=%j throws a ConfigError naming the variable', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message).toContain(name);
  });

  test('a too-short AUTH_TOKEN is refused without echoing its value', () => {
    const token = 'sekrit-tok3n';
    const err = configError({ AUTH_TOKEN: token });
    expect(err.message).toContain('AUTH_TOKEN');
    expect(err.message).not.toContain(token);
    expect(err.stack ?? '').not.toContain(token);
  });

  test('a too-long AUTH_TOKEN is refused without echoing its value', () => {
    const token = 'Q'.repeat(600);
    const err = configError({ AUTH_TOKEN: token });
    expect(err.message).toContain('AUTH_TOKEN');
    expect(err.message).not.toContain('QQQQ');
  });

  test('NOTIFY_URL: only http(s), refused without echoing it (it may hold a topic or a password); NOTIFY_EVENTS: known events only, default all', () => {
    for (const bad of ['ftp://u:hunter2@example.com/x', 'not a url hunter2', 'file:///etc/hunter2']) {
      const err = configError({ NOTIFY_URL: bad });
      expect(err.message).toMatch(/^invalid NOTIFY_URL: must be an http\(s\) URL$/);
      expect(err.stack ?? '').not.toContain('hunter2');
    }
    expect(configError({ NOTIFY_EVENTS: 'exited,bogus' }).message).toMatch(/invalid NOTIFY_EVENTS .*awaiting_approval, exited, failed, lost, budget_exceeded/);
    const c = loadConfig({ NOTIFY_URL: 'https://ntfy.sh/my-topic', NOTIFY_EVENTS: 'lost, exited' }, emptyDir);
    expect([c.NOTIFY_URL, c.NOTIFY_EVENTS]).toEqual(['https://ntfy.sh/my-topic', ['lost', 'exited']]);
    expect(loadConfig({}, emptyDir).NOTIFY_EVENTS).toEqual(['awaiting_approval', 'exited', 'failed', 'lost', 'budget_exceeded']);
  });

  test('WORKTREE_DIR defaults to STATE_DIR/worktrees and resolves against the working directory', () => {
    expect(loadConfig({ STATE_DIR: '/srv/state' }, emptyDir).WORKTREE_DIR).toBe('/srv/state/worktrees');
    expect(loadConfig({ WORKTREE_DIR: 'wt' }, emptyDir).WORKTREE_DIR).toBe(path.join(emptyDir, 'wt'));
  });

  test('a valid AUTH_TOKEN is accepted', () => {
    expect(loadConfig({ AUTH_TOKEN: 'a'.repeat(32) }, emptyDir).AUTH_TOKEN).toBe('a'.repeat(32));
  });

  test('CHILD_ENV_FOO=bar becomes childEnv FOO=bar; a bare CHILD_ENV_ is ignored', () => {
    const c = loadConfig({ CHILD_ENV_FOO: 'bar', CHILD_ENV_: 'x', CHILD_ENV_WITH_UNDERSCORE: 'y', OTHER: 'z' }, emptyDir);
    expect(c.childEnv).toEqual({ FOO: 'bar', WITH_UNDERSCORE: 'y' });
  });

  test('a .env file in cwd is read', () => {
    const c = loadConfig({}, dotEnvDir);
    expect(c.PORT).toBe(4100);
    expect(c.HOST).toBe('0.0.0.0');
    expect(c.MAX_SESSIONS).toBe(7);
    expect(c.LOG_LEVEL).toBe('debug');
    expect(c.childEnv).toEqual({ FROM_FILE: 'file value' });
  });

  test('the real environment wins over .env', () => {
    const c = loadConfig({ PORT: '4200', CHILD_ENV_FROM_FILE: 'real' }, dotEnvDir);
    expect(c.PORT).toBe(4200);
    expect(c.HOST).toBe('0.0.0.0');
    expect(c.childEnv).toEqual({ FROM_FILE: 'real' });
  });

  test('loadConfig does not write .env values into process.env', () => {
    loadConfig({}, dotEnvDir);
    expect(process.env.CHILD_ENV_FROM_FILE).toBeUndefined();
  });
});

describe('readDotEnv', () => {
  test('parses comments, export, spacing and quotes', () => {
    expect(readDotEnv(dotEnvDir)).toEqual({
      PORT: '4100',
      HOST: '0.0.0.0',
      MAX_SESSIONS: '7',
      LOG_LEVEL: 'debug',
      CHILD_ENV_FROM_FILE: 'file value',
    });
  });

  test('a directory without .env gives nothing', () => {
    expect(readDotEnv(emptyDir)).toEqual({});
  });
});
