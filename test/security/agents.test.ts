/**
 * What the agents receive. Client text (task, message, cwd) full of shell
 * syntax arrives byte-identical as one argv element / one stdin message and
 * runs nothing (canary files stay absent); NUL bytes and over-long Codex
 * arguments are refused up front; agents see only the whitelisted environment
 * plus CHILD_ENV_* (never AUTH_TOKEN, the server's settings or a parent
 * Claude's markers); they inherit no descriptor beyond stdio and their PTY;
 * cwds stay inside WORKSPACE_DIR after resolving symlinks; and Claude as root
 * without the sandbox opt-in is refused with the reason and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect, until } from '../helpers/server';
import { expectNormalSession, finish, startSecurityServer, startServerInheritingFd } from './support';
import { CUT_MARK } from '../../src/shared/sanitize';

let server: RunningServer;
let client: Client;
let canaries: string;

const SERVER_SECRETS = {
  CLAUDECODE: '1',
  CLAUDE_CODE_ENTRYPOINT: 'cli',
  CLAUDE_CODE_SSE_PORT: '45678',
  CLAUDE_AGENT_SDK_VERSION: '9.9.9',
  GITHUB_TOKEN: 'ghp_server_only_0123456789',
  DATABASE_URL: 'postgres://admin:hunter2@db/prod',
  AGENTVISOR_SOMETHING: 'server-only',
  ANTHROPIC_API_KEY: 'sk-ant-for-the-agents',
  LC_ALL: 'C.UTF-8',
  CHILD_ENV_FOO: 'bar baz',
  CHILD_ENV_AUTH_TOKEN: 'smuggled-through-child-env',
  CHILD_ENV_CLAUDECODE: '1',
};

beforeAll(async () => {
  server = await startSecurityServer(SERVER_SECRETS);
  client = await connect(server, 'http');
  canaries = path.join(server.dirs.base, 'canaries');
  fs.mkdirSync(canaries);
});

afterAll(async () => {
  await finish(server, [client]);
});

async function waitEnded(sessionId: string): Promise<any> {
  let page: any;
  await until(
    async () => {
      page = await call(client, 'session_wait', { sessionId, since: 0, timeoutMs: 2_000, limit: 10_000, maxBytes: 1_000_000 });
      return !['running', 'killing'].includes(page.status);
    },
    20_000,
    `session ${sessionId} to end`,
  );
  return page;
}

/** The JSON object a fake agent printed, reassembled even when a long line was cut into marked pieces. */
function printedJson(lines: string[], key?: string): any {
  const start = lines.findIndex((l) => l.startsWith(key ? `{"${key}":` : '{"'));
  if (start === -1) throw new Error(`no {"${key ?? ''}…": …} line in:\n${lines.join('\n').slice(0, 2_000)}`);
  let text = '';
  for (let i = start; i < lines.length; i++) {
    text += lines[i].endsWith(CUT_MARK) ? lines[i].slice(0, -CUT_MARK.length) : lines[i];
    try {
      return JSON.parse(text);
    } catch {
      // continued on the next line
    }
  }
  throw new Error(`unterminated JSON from ${key ?? 'the agent'}`);
}

/**
 * What a holding fake agent (argv-hold, env-hold, cwd-hold) printed: read while it is alive,
 * then the session is killed. Reading an agent's last line after it exited would race the
 * PTY's final flush; this does not.
 */
async function printedByLive(sessionId: string, key?: string, since = 0): Promise<any> {
  let found: any;
  await until(
    async () => {
      const lines: string[] = [];
      let from = since;
      for (;;) {
        const page = await call(client, 'session_output', { sessionId, since: from, limit: 10_000, maxBytes: 1_000_000 });
        lines.push(...page.lines);
        from = page.nextOffset;
        if (!page.hasMore) break;
      }
      try {
        found = printedJson(lines, key);
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    `session ${sessionId} to print its ${key ?? 'JSON'}`,
  );
  await call(client, 'session_kill', { sessionId });
  return found;
}

function payloads(canary: (n: number) => string): string[] {
  return [
    `; touch ${canary(1)}`,
    `&& touch ${canary(2)} || touch ${canary(2)}`,
    `| touch ${canary(3)}`,
    `$(touch ${canary(4)})`,
    `\`touch ${canary(5)}\``,
    `\ntouch ${canary(6)}\n`,
    `'; touch ${canary(7)}; echo '`,
    `"; touch ${canary(8)}; echo "`,
    `> ${canary(9)} < /etc/passwd 2>&1`,
    `\${IFS}touch\${IFS}${canary(10)} $((1+1)) $HOME ~ * ?`,
    `\r\n\u0003\u0004\u001b[31m red \u001b]0;title\u0007 \\ \\\\ %s %n %x {{7*7}} <script>`,
    `--help --yolo -rf / --no-preserve-root`,
    `ünïcödé ☃ 🚀 \u202e\u200b ‮ 中文 עברית`,
  ];
}

test('task: shell syntax arrives byte-identical and runs nothing (Codex argv, Claude stdin)', async () => {
  const canary = (n: number) => path.join(canaries, `task-${n}`);
  for (const payload of payloads(canary)) {
    const task = `argv-hold ${payload}`;
    const s = await call(client, 'session_start', { agent: 'codex', cwd: 'inject', task });
    expect(await printedByLive(s.sessionId, 'task')).toEqual({ task });
  }
  // Claude takes the task as a stream-json message on stdin; the fake echoes it back.
  for (const payload of payloads(canary).filter((p) => !/[\r\n]/.test(p))) {
    const s = await call(client, 'session_start', { agent: 'claude-code', cwd: 'inject', task: payload });
    const page = await waitEnded(s.sessionId);
    expect(page.lines).toContain(`echo: ${payload}`);
  }
  // A long argument (within Linux's per-argument limit) also arrives whole.
  const long = `argv-hold ${'$(touch x); '.repeat(8_000)}`;
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'inject', task: long });
  expect(await printedByLive(s.sessionId, 'task')).toEqual({ task: long });
  expect(fs.readdirSync(canaries)).toEqual([]);
});

test('message: shell syntax in a follow-up arrives byte-identical and runs nothing', async () => {
  const canary = (n: number) => path.join(canaries, `message-${n}`);
  // Codex: an ended session continues with the message as its next command line.
  const codex = await call(client, 'session_start', { agent: 'codex', cwd: 'inject-msg', task: 'exit 0' });
  await waitEnded(codex.sessionId);
  for (const payload of payloads(canary).slice(0, 8)) {
    const message = `argv-hold ${payload}`;
    const before = (await call(client, 'session_output', { sessionId: codex.sessionId, since: 0, limit: 1 })).status;
    expect(before).not.toBe('running');
    const offset = (await call(client, 'session_list')).sessions.find((x: any) => x.sessionId === codex.sessionId).outputLines;
    const sent = await call(client, 'session_send', { sessionId: codex.sessionId, message });
    expect(sent.resumed).toBe(true);
    expect(await printedByLive(codex.sessionId, 'task', offset)).toEqual({ task: message });
    await waitEnded(codex.sessionId);
  }
  // Claude: the message is one stream-json user message.
  const claude = await call(client, 'session_start', { agent: 'claude-code', cwd: 'inject-msg', task: 'slow 3000 hold' });
  for (const payload of payloads(canary).filter((p) => !/[\r\n]/.test(p))) {
    expect((await call(client, 'session_send', { sessionId: claude.sessionId, message: payload })).delivered).toBe(true);
  }
  const page = await waitEnded(claude.sessionId);
  for (const payload of payloads(canary).filter((p) => !/[\r\n]/.test(p))) expect(page.lines).toContain(`echo: ${payload}`);
  expect(fs.readdirSync(canaries)).toEqual([]);
});

test('cwd: a directory name full of shell syntax is created and used as is, running nothing', async () => {
  const names = ['x $(touch pwned-1) ; touch pwned-2 `touch pwned-3`', 'q\'uo"te & | > < * ? [a] {b,c} ~ !', 'new\nline\ttab', '-rf', '--help', '$HOME'];
  for (const name of names) {
    const s = await call(client, 'session_start', { agent: 'codex', cwd: name, task: 'cwd-hold' });
    expect(s.cwd).toBe(path.join(server.dirs.workspace, name));
    expect(await printedByLive(s.sessionId, 'cwd')).toEqual({ cwd: path.join(server.dirs.workspace, name) });
    expect(fs.statSync(path.join(server.dirs.workspace, name)).isDirectory()).toBe(true);
  }
  const created = fs.readdirSync(server.dirs.workspace, { recursive: true }).map(String);
  expect(created.filter((p) => /^pwned-\d$/.test(path.basename(p)))).toEqual([]);
  expect(fs.existsSync(path.join(server.dirs.base, 'pwned-1'))).toBe(false);
});

test('text an argv cannot carry is refused up front with the field named', async () => {
  expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'nul', task: 'argv before\u0000after' })).toMatch(/task contains a NUL byte/);
  expect(await callError(client, 'session_start', { agent: 'claude-code', cwd: 'nul', task: 'a\u0000b' })).toMatch(/task contains a NUL byte/);
  // 99 999 three-byte characters: within the character limit, over Linux's 131 072-byte argument limit.
  expect(await callError(client, 'session_start', { agent: 'codex', cwd: 'nul', task: '€'.repeat(99_999) })).toMatch(/task is 299997 bytes.*131071/);
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'nul', task: 'exit 0' });
  await waitEnded(s.sessionId);
  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: 'argv x\u0000y' })).toMatch(/message contains a NUL byte/);
  expect(await callError(client, 'session_send', { sessionId: s.sessionId, message: '€'.repeat(50_000) })).toMatch(/message is 150000 bytes/);
  // None of these created a session.
  const sessions = (await call(client, 'session_list')).sessions.filter((x: any) => x.cwd === path.join(server.dirs.workspace, 'nul'));
  expect(sessions).toHaveLength(1);
});

const ALLOWED_ENV = new Set([
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
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_MODEL',
  'CLAUDE_CONFIG_DIR',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'CODEX_HOME',
  'TERM',
  'NO_COLOR',
  'PAGER',
  'GIT_PAGER',
  // Set by node-pty for a PTY child: its own cwd.
  'PWD',
  // Set by the worker to the session id: marks the session's processes (worker/sessionTree.ts).
  'AGENTVISOR_SESSION_ID',
  // From CHILD_ENV_*:
  'FOO',
  'IS_SANDBOX',
]);

function expectAgentEnv(env: Record<string, string>): void {
  const unexpected = Object.keys(env).filter((k) => !ALLOWED_ENV.has(k) && !k.startsWith('LC_'));
  expect(unexpected).toEqual([]);
  for (const name of [
    'AUTH_TOKEN',
    'CLAUDECODE',
    'CLAUDE_CODE_ENTRYPOINT',
    'CLAUDE_CODE_SSE_PORT',
    'CLAUDE_AGENT_SDK_VERSION',
    'GITHUB_TOKEN',
    'DATABASE_URL',
    'STATE_DIR',
    'WORKSPACE_DIR',
    'RATE_LIMIT_RPM',
  ]) {
    expect({ name, present: name in env }).toEqual({ name, present: false });
  }
  const values = Object.values(env).join('\n');
  expect(values).not.toContain(server.token);
  expect(values).not.toContain('smuggled-through-child-env');
  expect(values).not.toContain(server.dirs.stateDir);
  expect(env.FOO).toBe('bar baz');
  expect(env.IS_SANDBOX).toBe('1');
  expect(env.ANTHROPIC_API_KEY).toBe('sk-ant-for-the-agents');
  expect(env.LC_ALL).toBe('C.UTF-8');
}

function environOf(pid: number): Record<string, string> {
  const raw = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

function journalRow(sessionId: string): { worker_pid: number; socket_path: string; secret: string } {
  return journalRowOf(server, sessionId);
}

function journalRowOf(srv: RunningServer, sessionId: string): { worker_pid: number; socket_path: string; secret: string } {
  const db = new Database(path.join(srv.dirs.stateDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT worker_pid, socket_path, secret FROM sessions WHERE id = ?').get(sessionId) as any;
  } finally {
    db.close();
  }
}

test("agents get the whitelist plus CHILD_ENV_*, never AUTH_TOKEN, server settings or a parent Claude's markers", async () => {
  const codex = await call(client, 'session_start', { agent: 'codex', cwd: 'env', task: 'env-hold' });
  expectAgentEnv(await printedByLive(codex.sessionId));
  // Claude (pipes, not a PTY): read from the live process itself.
  const claude = await call(client, 'session_start', { agent: 'claude-code', cwd: 'env', task: 'slow 5000 hold' });
  expectAgentEnv(environOf(claude.pid));
  // The worker in between has even less: PATH and NODE_ENV.
  const worker = journalRow(claude.sessionId).worker_pid;
  expect(Object.keys(environOf(worker)).sort()).toEqual(['NODE_ENV', 'PATH']);
  await call(client, 'session_kill', { sessionId: claude.sessionId });
});

/** Descriptor → target for a live process, as /proc shows them. */
function fdsOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

/**
 * The agent's terminal. Confined (issue 16), it is the same PTY under two names: bubblewrap's
 * minimal /dev binds it at /dev/console so that ttyname works inside, and the kernel names an
 * open descriptor of it by either.
 */
const TERMINAL = /^\/dev\/(pts\/\d+|console)$/;

/**
 * Descriptors 3 and up that the agent did not open itself: Node's own are anon inodes
 * (epoll, eventfd), /dev/null, pipes it holds both ends of, and its terminal reopened
 * (libuv reopens a TTY stdin). Anything else — a socket, a file, a lone pipe end, a
 * descriptor shared with the worker — was inherited.
 */
function inheritedFds(agent: Record<string, string>, worker: Record<string, string>): string[] {
  const high = Object.entries(agent).filter(([fd]) => Number(fd) > 2);
  const count = (t: string) => high.filter(([, x]) => x === t).length;
  const workerShared = new Set(Object.values(worker).filter((t) => /^(socket|pipe):/.test(t)));
  const ownTerminal = TERMINAL.test(agent['0'] ?? '') ? agent['0'] : null;
  return high
    .filter(([, t]) => !t.startsWith('anon_inode:') && t !== '/dev/null' && !(ownTerminal && TERMINAL.test(t)) && !(t.startsWith('pipe:') && count(t) >= 2 && !workerShared.has(t)))
    .map(([fd, t]) => `${fd} -> ${t}`);
}

test('agents inherit no descriptor beyond stdio and their PTY, even one the server itself inherited', async () => {
  const marker = path.join(canaries, '..', 'inherited-marker');
  const leaky = await startServerInheritingFd(marker);
  const leakyClient = await connect(leaky, 'http');
  try {
    // The server really holds it, without close-on-exec, as a process manager could leave it.
    expect(Object.values(fdsOf(leaky.proc.pid!))).toContain(marker);
    await expectNoInheritedFds(leaky, leakyClient, marker);
  } finally {
    await finish(leaky, [leakyClient]);
  }
});

async function expectNoInheritedFds(srv: RunningServer, client: Client, marker: string): Promise<void> {
  const journalRow = (id: string) => journalRowOf(srv, id);
  const codex = await call(client, 'session_start', { agent: 'codex', cwd: 'fds', task: 'fds' });
  let lines: string[] = [];
  await until(
    async () => {
      lines = (await call(client, 'session_output', { sessionId: codex.sessionId })).lines;
      return lines.some((l) => l.startsWith('{"fds":'));
    },
    10_000,
    'the fds listing',
  );
  const seen = printedJson(lines, 'fds').fds as Record<string, string>;
  expect(seen['0']).toMatch(TERMINAL);
  expect(seen['1']).toMatch(TERMINAL);
  expect(seen['2']).toMatch(TERMINAL);
  const codexWorker = fdsOf(journalRow(codex.sessionId).worker_pid);
  expect(Object.values(codexWorker).some((t) => t.startsWith('socket:'))).toBe(true); // the worker does hold sockets …
  expect(inheritedFds(seen, codexWorker)).toEqual([]); // … and none of them reached its agent
  expect(inheritedFds(fdsOf(codex.pid), codexWorker)).toEqual([]);

  const claude = await call(client, 'session_start', { agent: 'claude-code', cwd: 'fds', task: 'slow 5000 hold' });
  const claudeFds = fdsOf(claude.pid);
  for (const fd of ['0', '1', '2']) expect(claudeFds[fd]).toMatch(/^(pipe|socket):/); // Node's stdio pipes are socketpairs
  const claudeWorker = fdsOf(journalRow(claude.sessionId).worker_pid);
  expect(inheritedFds(claudeFds, claudeWorker)).toEqual([]);
  // The descriptor the server inherited reached neither a worker nor an agent.
  for (const fds of [seen, fdsOf(codex.pid), codexWorker, claudeFds, claudeWorker]) expect(Object.values(fds)).not.toContain(marker);
  for (const id of [codex.sessionId, claude.sessionId]) await call(client, 'session_kill', { sessionId: id });
}

test('a session cwd must resolve inside WORKSPACE_DIR, through symlinks too', async () => {
  const ws = server.dirs.workspace;
  const outside = path.join(server.dirs.base, 'outside-cwd');
  fs.mkdirSync(outside);
  fs.mkdirSync(`${ws}-evil`, { recursive: true });
  fs.symlinkSync(outside, path.join(ws, 'link-out'));
  fs.symlinkSync('/', path.join(ws, 'link-root'));
  fs.mkdirSync(path.join(ws, 'real-sub'));
  fs.symlinkSync(path.join(ws, 'real-sub'), path.join(ws, 'link-in'));
  fs.writeFileSync(path.join(ws, 'a-file'), 'x');
  try {
    const refused: Array<[string, RegExp]> = [
      ['..', /outside WORKSPACE_DIR/],
      ['../outside-cwd', /outside WORKSPACE_DIR/],
      ['/', /outside WORKSPACE_DIR/],
      ['/tmp', /outside WORKSPACE_DIR/],
      [outside, /outside WORKSPACE_DIR/],
      [`${ws}-evil`, /outside WORKSPACE_DIR/],
      [`${ws}/../ws-evil/new`, /outside WORKSPACE_DIR/],
      ['sub/../../outside-cwd', /outside WORKSPACE_DIR/],
      ['link-out', /outside WORKSPACE_DIR/],
      ['link-out/new-dir', /outside WORKSPACE_DIR/],
      ['link-out/a/b/c', /outside WORKSPACE_DIR/],
      ['link-root/tmp', /outside WORKSPACE_DIR/],
      ['/proc/self/cwd', /outside WORKSPACE_DIR/],
      [`/proc/self/root${outside}`, /outside WORKSPACE_DIR/],
      ['a-file', /not a directory/],
      ['a-file/sub', /not a directory|parents is a file/],
      ['new\u0000dir', /NUL/],
      ['', /cwd/],
    ];
    for (const [cwd, why] of refused) {
      const err = await callError(client, 'session_start', { agent: 'codex', cwd, task: 'exit 0' });
      expect({ cwd, ok: why.test(err) }).toEqual({ cwd, ok: true });
    }
    // Nothing was created outside while being refused.
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readdirSync(`${ws}-evil`)).toEqual([]);
    // Inside, through a symlink, the resolved directory is used.
    const viaLink = await call(client, 'session_start', { agent: 'codex', cwd: 'link-in/deeper', task: 'cwd-hold' });
    expect(viaLink.cwd).toBe(path.join(ws, 'real-sub', 'deeper'));
    expect(await printedByLive(viaLink.sessionId, 'cwd')).toEqual({ cwd: path.join(ws, 'real-sub', 'deeper') });
    const viaProc = await call(client, 'session_start', { agent: 'codex', cwd: `/proc/self/root${ws}/p`, task: 'exit 0' });
    expect(viaProc.cwd).toBe(path.join(ws, 'p'));
    await waitEnded(viaProc.sessionId);
  } finally {
    fs.rmSync(`${ws}-evil`, { recursive: true, force: true });
  }
});

test('Claude as root without CHILD_ENV_IS_SANDBOX is refused with the reason and the fix', async () => {
  // The one server here started without the sandbox opt-in (an empty value unsets it).
  const bare = await startSecurityServer({ CHILD_ENV_IS_SANDBOX: '' });
  const bareClient = await connect(bare, 'http');
  try {
    if (process.getuid?.() === 0) {
      const err = await callError(bareClient, 'session_start', { agent: 'claude-code', cwd: 'root', task: 'hello' });
      expect(err).toMatch(/root/);
      expect(err).toMatch(/dangerously-skip-permissions/);
      expect(err).toMatch(/CHILD_ENV_IS_SANDBOX=1/);
      expect(err).toMatch(/normal user|mode "edit" or "plan"/);
      expect((await call(bareClient, 'session_list')).sessions).toEqual([]);
    } else {
      // Not root: nothing to refuse, Claude starts.
      const s = await call(bareClient, 'session_start', { agent: 'claude-code', cwd: 'root', task: 'hello' });
      expect(s.status).toBeDefined();
    }
    // Codex is unaffected.
    await expectNormalSession(bareClient);
  } finally {
    await finish(bare, [bareClient]);
  }
});

test('after all that, the server still serves a normal session end to end', async () => {
  await expectNormalSession(client);
  expect(fs.readdirSync(canaries)).toEqual([]);
});
