/**
 * Runs the REAL claude and codex CLIs (node_modules/.bin) against the scripted ModelServer, fully
 * offline. These tests pin down the flags, environment and output formats that agentvisor's
 * real-agent integration relies on, so a CLI upgrade that changes them fails here first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelServer, claudeEnv, codexArgs, codexEnv, DONE_TEXT } from './support/modelServer';

const pty: typeof import('node-pty') = require('node-pty');

const BIN = path.join(__dirname, '..', 'node_modules', '.bin');
const CLAUDE = path.join(BIN, 'claude');
const CODEX = path.join(BIN, 'codex');

// The flags agentvisor starts claude with (plus --resume for a restart).
const CLAUDE_FLAGS = [
  '--print',
  '--verbose',
  '--output-format',
  'stream-json',
  '--input-format',
  'stream-json',
  '--dangerously-skip-permissions',
  '--append-system-prompt',
  'AGENTVISOR-TEST-SYSTEM-PROMPT',
];

// ---- cleanup bookkeeping: every temp dir, server and child is released after each test ----
const dirs: string[] = [];
const servers: ModelServer[] = [];
/** Process-group ids of every child started (each is spawned as its own group leader). */
const groups: number[] = [];

function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `avms-${prefix}-`));
  dirs.push(d);
  return d;
}

async function server(script: Parameters<typeof ModelServer.start>[0]): Promise<ModelServer> {
  const s = await ModelServer.start(script);
  servers.push(s);
  return s;
}

/**
 * Kill a child's whole process group. `node_modules/.bin/codex` is a Node wrapper that (on Node
 * 20, which lacks process.execve) spawns the native codex binary and forwards only
 * SIGINT/SIGTERM/SIGHUP, so SIGKILLing the wrapper alone would orphan the real agent.
 */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

afterEach(async () => {
  // Always, even after a clean exit: a tool call may have left a background process in the group.
  for (const pid of groups.splice(0)) killGroup(pid);
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// ---- claude driver: stream-json in, stream-json out ----

interface ClaudeEvent {
  type: string;
  subtype?: string;
  session_id?: string;
  is_error?: boolean;
  result?: string;
  [k: string]: unknown;
}

class Claude {
  readonly events: ClaudeEvent[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  private readonly child: ChildProcess;
  private buf = '';
  private listeners: Array<() => void> = [];

  constructor(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(CLAUDE, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    groups.push(this.child.pid!);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.events.push(JSON.parse(line));
      }
      this.listeners.forEach((l) => l());
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  send(text: string): void {
    this.child.stdin!.write(JSON.stringify({ type: 'user', message: { role: 'user', content: text } }) + '\n');
  }

  end(): void {
    this.child.stdin!.end();
  }

  results(): ClaudeEvent[] {
    return this.events.filter((e) => e.type === 'result');
  }

  /** Resolves with the n-th (1-based) `result` event. */
  waitForResult(n: number, timeoutMs = 30_000): Promise<ClaudeEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const r = this.results();
        if (r.length >= n) {
          clearTimeout(t);
          this.listeners = this.listeners.filter((l) => l !== check);
          resolve(r[n - 1]);
        }
      };
      const t = setTimeout(() => reject(new Error(`no result #${n}; stderr=${this.stderr} events=${JSON.stringify(this.events).slice(0, 2000)}`)), timeoutMs);
      this.listeners.push(check);
      check();
    });
  }
}

// ---- codex drivers ----

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** `codex exec` prints a header on stderr (a PTY merges it) with a line "session id: <uuid>". */
function codexThreadId(output: string): string {
  const m = /session id:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(output.replace(ANSI, ''));
  if (!m) throw new Error(`no session id in codex output:\n${output}`);
  return m[1];
}

/** Codex under a PTY, as agentvisor runs it. Resolves with the exit code and everything printed. */
function codexPty(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const p = pty.spawn(CODEX, args, { cwd, env: env as Record<string, string>, cols: 120, rows: 40, name: 'xterm-256color' });
  groups.push(p.pid); // node-pty makes the child a session (and group) leader
  let output = '';
  p.onData((d) => (output += d));
  return new Promise((resolve) => p.onExit(({ exitCode }) => resolve({ code: exitCode, output })));
}

/** Codex with a closed stdin (an open, never-closed pipe makes `codex exec` wait for stdin forever). */
function codexPiped(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(CODEX, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.push(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** All text anywhere in a request body (a cheap "does the model see X" check). */
const seen = (body: unknown): string => JSON.stringify(body);

/** Text of Responses-API input items of one role, in order. */
function openAiMessages(body: any, role: string): string[] {
  return (body.input as any[]).filter((i) => i.type === 'message' && i.role === role).map((i) => i.content.map((c: any) => c.text).join(''));
}

// ---------------------------------------------------------------------------------------------

describe('ModelServer (HTTP level)', () => {
  test('side requests do not consume the script; an exhausted script answers "done"; errors and times', async () => {
    const s = await server([{ text: 'first' }, { httpStatus: 401, error: 'invalid x-api-key', times: 2 }]);
    const post = (p: string, body: object) => fetch(s.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const tools = [{ name: 'Bash', input_schema: { type: 'object' } }];

    expect((await fetch(s.url + '/', { method: 'HEAD' })).status).toBe(200);
    const side: any = await (await post('/v1/messages?beta=true', { model: 'm', messages: [], max_tokens: 5 })).json();
    expect(side.content[0].text).toBe(DONE_TEXT);
    const first: any = await (await post('/v1/messages?beta=true', { model: 'm', messages: [], tools })).json();
    expect(first.content).toEqual([{ type: 'text', text: 'first' }]);
    for (let i = 0; i < 2; i++) {
      const r = await post('/v1/messages?beta=true', { model: 'm', messages: [], tools });
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    }
    const sse = await (await post('/v1/responses', { model: 'm', stream: true, input: [], tools: [{ type: 'function', name: 'exec_command' }] })).text();
    expect(sse).toContain('event: response.completed');
    expect(sse).toContain(`"text":"${DONE_TEXT}"`);
    expect(s.requests.map((r) => r.api)).toEqual(['anthropic', 'anthropic', 'anthropic', 'openai']);
    expect(s.sideRequests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /', 'POST /v1/messages?beta=true']);
    expect(s.remaining).toBe(0);

    s.push({ text: 'slow', delayMs: 300 });
    const t0 = Date.now();
    const slow: any = await (await post('/v1/messages?beta=true', { model: 'm', messages: [], tools })).json();
    expect(slow.content[0].text).toBe('slow');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await s.waitForRequests(5);
  });
});

describe('claude (real CLI) against ModelServer', () => {
  test('Write and Bash tool calls run, and their results go back to the model', async () => {
    const cwd = tmp('claude-cwd');
    const home = tmp('claude-home');
    const file = path.join(cwd, 'hello.txt');
    const s = await server([
      { text: 'Creating the file.', toolCalls: [{ name: 'Write', input: { file_path: file, content: 'hello from the script\n' } }] },
      { toolCalls: [{ name: 'Bash', input: { command: 'cat hello.txt && echo BASH-RAN-IN-$PWD', description: 'check' } }] },
      { text: 'Wrote hello.txt.' },
    ]);

    const c = new Claude(CLAUDE_FLAGS, cwd, claudeEnv(s.url, home));
    c.send('Create hello.txt');
    const result = await c.waitForResult(1);
    c.end();
    expect(await c.exited).toBe(0);

    expect(fs.readFileSync(file, 'utf8')).toBe('hello from the script\n');
    expect(result).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: 'Wrote hello.txt.', num_turns: 3 });
    const init = c.events[0];
    expect(init).toMatchObject({ type: 'system', subtype: 'init', cwd, permissionMode: 'bypassPermissions' });
    expect(result.session_id).toBe(init.session_id);

    expect(s.requests).toHaveLength(3);
    expect(s.requests[0].path).toBe('/v1/messages?beta=true');
    expect(s.requests[0].body.stream).toBe(true);
    expect(seen(s.requests[0].body.system)).toContain('AGENTVISOR-TEST-SYSTEM-PROMPT');
    expect(s.requests[0].body.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(['Bash', 'Write', 'Read', 'Edit']));
    const toolUseId = (c.events.find((e: any) => e.type === 'assistant' && e.message.content[0].type === 'tool_use') as any).message.content[0].id;
    const followUp = s.requests[1].body.messages.at(-1);
    expect(followUp.role).toBe('user');
    expect(followUp.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: toolUseId });
    expect(seen(followUp.content[0].content)).toContain('File created successfully');
    const bashResult = s.requests[2].body.messages.at(-1).content[0];
    expect(bashResult.type).toBe('tool_result');
    expect(bashResult.is_error).toBeFalsy();
    expect(seen(bashResult.content)).toContain('hello from the script');
    expect(seen(bashResult.content)).toContain(`BASH-RAN-IN-${cwd}`);
    // Only the `HEAD /` probe besides the main turns (no title/quota requests in --print mode).
    expect(s.sideRequests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /']);
  });

  test('two stdin messages get two results with history, then --resume continues the session', async () => {
    const cwd = tmp('claude-cwd');
    const home = tmp('claude-home');
    const s = await server([{ text: 'ANSWER-ONE' }, { text: 'ANSWER-TWO' }, { text: 'ANSWER-THREE' }]);
    const env = claudeEnv(s.url, home);

    const c = new Claude(CLAUDE_FLAGS, cwd, env);
    c.send('QUESTION-ONE');
    const r1 = await c.waitForResult(1);
    c.send('QUESTION-TWO'); // only after the first result, as agentvisor does
    const r2 = await c.waitForResult(2);
    c.end();
    expect(await c.exited).toBe(0);
    expect([r1.result, r2.result]).toEqual(['ANSWER-ONE', 'ANSWER-TWO']);
    expect(r1.is_error).toBe(false);
    expect(r2.session_id).toBe(r1.session_id);
    const sid = r1.session_id!;

    expect(s.requests).toHaveLength(2);
    const second = seen(s.requests[1].body.messages);
    expect(second).toContain('QUESTION-ONE');
    expect(second).toContain('ANSWER-ONE');
    expect(second).toContain('QUESTION-TWO');

    // A new process, same HOME and cwd: --resume <session_id> reloads the transcript.
    const c2 = new Claude([...CLAUDE_FLAGS, '--resume', sid], cwd, env);
    c2.send('QUESTION-THREE');
    const r3 = await c2.waitForResult(1);
    c2.end();
    expect(await c2.exited).toBe(0);
    expect(r3).toMatchObject({ is_error: false, result: 'ANSWER-THREE', session_id: sid });

    expect(s.requests).toHaveLength(3);
    const third = s.requests[2].body.messages;
    const text = seen(third);
    for (const t of ['QUESTION-ONE', 'ANSWER-ONE', 'QUESTION-TWO', 'ANSWER-TWO', 'QUESTION-THREE']) expect(text).toContain(t);
    expect(text.indexOf('QUESTION-ONE')).toBeLessThan(text.indexOf('QUESTION-THREE'));
    // One `HEAD /` probe per process; no title/summary side requests on resume either.
    expect(s.sideRequests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /', 'HEAD /']);
  });

  test('a 401 from the API is reported as an error result', async () => {
    const cwd = tmp('claude-cwd');
    const home = tmp('claude-home');
    const s = await server([{ httpStatus: 401, error: 'invalid x-api-key', times: Infinity }]);
    const c = new Claude(CLAUDE_FLAGS, cwd, claudeEnv(s.url, home, { CLAUDE_CODE_MAX_RETRIES: '0' }));
    c.send('hello?');
    const r = await c.waitForResult(1);
    c.end();
    expect(r).toMatchObject({ type: 'result', is_error: true, api_error_status: 401 });
    expect(r.result).toMatch(/Invalid API key/i);
    expect(await c.exited).toBe(1);
    expect(s.requests).toHaveLength(1);
  });
});

describe('codex (real CLI) against ModelServer', () => {
  test('exec under a PTY: the shell tool creates a file; the thread id is in the header', async () => {
    const cwd = tmp('codex-cwd');
    const home = tmp('codex-home');
    const codexHome = tmp('codex-codexhome');
    const s = await server([{ text: 'Creating the file.', toolCalls: [{ name: 'exec_command', input: { cmd: 'printf "made by codex" > made.txt && echo WROTE-IT' } }] }, { text: 'File created.' }]);

    const { code, output } = await codexPty([...codexArgs(s.url), '--yolo', 'exec', '--skip-git-repo-check', 'Create made.txt'], cwd, codexEnv(home, codexHome));
    expect(code).toBe(0);
    expect(fs.readFileSync(path.join(cwd, 'made.txt'), 'utf8')).toBe('made by codex');
    const plain = output.replace(ANSI, '');
    expect(codexThreadId(output)).toMatch(/^[0-9a-f-]{36}$/);
    expect(plain).toContain('provider: local');
    expect(plain).toMatch(/codex\r?\nFile created\./);

    expect(s.requests).toHaveLength(2);
    expect(s.requests[0].path).toBe('/v1/responses');
    expect(s.requests[0].body.stream).toBe(true);
    expect(openAiMessages(s.requests[0].body, 'user')).toContain('Create made.txt');
    // The tool result (exec_command's output) comes back in the second request.
    const outputs = (s.requests[1].body.input as any[]).filter((i) => /_call_output$/.test(i.type));
    expect(outputs).toHaveLength(1);
    expect(seen(outputs[0])).toContain('WROTE-IT');
    expect(s.sideRequests).toEqual([]);
  });

  test('exec resume <thread id> continues the thread with its earlier turns', async () => {
    const cwd = tmp('codex-cwd');
    const home = tmp('codex-home');
    const codexHome = tmp('codex-codexhome');
    const env = codexEnv(home, codexHome);
    const s = await server([{ toolCalls: [{ name: 'exec_command', input: { cmd: 'echo FIRST-TOOL-RAN' } }] }, { text: 'FIRST-ANSWER' }, { text: 'SECOND-ANSWER' }]);

    const first = await codexPiped([...codexArgs(s.url), '--yolo', 'exec', '--skip-git-repo-check', 'FIRST-TASK'], cwd, env);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe('FIRST-ANSWER'); // piped stdout carries only the final message
    const thread = codexThreadId(first.stderr); // the header goes to stderr when piped
    expect(first.stderr).toContain('Reading additional input from stdin...');

    const second = await codexPiped([...codexArgs(s.url), '--yolo', 'exec', '--skip-git-repo-check', 'resume', thread, 'SECOND-TASK'], cwd, env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe('SECOND-ANSWER');
    expect(codexThreadId(second.stderr)).toBe(thread);

    expect(s.requests).toHaveLength(3);
    const resumed = s.requests[2].body;
    expect(openAiMessages(resumed, 'user')).toEqual(expect.arrayContaining(['FIRST-TASK', 'SECOND-TASK']));
    expect(openAiMessages(resumed, 'assistant')).toContain('FIRST-ANSWER');
    expect(seen(resumed.input)).toContain('FIRST-TOOL-RAN');
    expect(s.requests[2].headers['thread-id']).toBe(thread);
    expect(s.sideRequests).toEqual([]);
  });

  test('a 401 from the API fails the run with the status in the output', async () => {
    const cwd = tmp('codex-cwd');
    const s = await server([{ httpStatus: 401, error: 'invalid api key', times: Infinity }]);
    const r = await codexPiped([...codexArgs(s.url, { maxRetries: 0 }), '--yolo', 'exec', '--skip-git-repo-check', 'hello?'], cwd, codexEnv(tmp('codex-home'), tmp('codex-codexhome')));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('401 Unauthorized: invalid api key');
    expect(s.requests).toHaveLength(1);
  });
});
