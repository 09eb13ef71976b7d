/**
 * The Codex app-server driver's own logic, fast and in process: a hand-written peer stands in
 * for the app-server process (what crosses the process boundary: lines written, lines read).
 * The real CLI is driven in test/realAgents/codexAppServer.test.ts.
 */
import type { AgentMode, WorkerSpec } from '../../src/shared/protocol';
import type { AgentProcess } from '../../src/worker/agentProcess';
import { CodexAppServerDriver } from '../../src/worker/drivers/codexAppServer';
import type { DriverEvent } from '../../src/worker/drivers/driver';

type Msg = { id?: number | string; method?: string; params?: any; result?: any; error?: any };

/** A peer that answers the driver's requests by `answers` (undefined: no answer) and records all it was sent. */
class Peer implements AgentProcess {
  readonly pid = 4242;
  readonly sent: Msg[] = [];
  /** Methods of the driver's requests answered so far, in order. */
  readonly answered: string[] = [];
  inputClosed = false;
  readonly events: DriverEvent[] = [];
  readonly driver: CodexAppServerDriver;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly answers: Record<string, (m: Msg) => unknown> = {},
    mode: AgentMode = 'full',
    timeouts = {},
  ) {
    const spec = { agent: 'codex', mode, model: 'gpt-test', cwd: '/w' } as unknown as WorkerSpec;
    this.driver = new CodexAppServerDriver({ spec, emit: (e) => (this.events.push(e), this.wake()) }, timeouts);
  }

  write(line: string): void {
    const m = JSON.parse(line) as Msg;
    this.sent.push(m);
    this.wake();
    const defaults: Record<string, (m: Msg) => unknown> = {
      initialize: () => ({ userAgent: 'fake' }),
      'thread/start': () => ({ thread: { id: 'th-1' } }),
      'thread/resume': (r) => ({ thread: { id: r.params.threadId } }),
      'turn/start': () => ({ turn: { id: `turn-${this.sent.filter((s) => s.method === 'turn/start').length}`, status: 'inProgress' } }),
      'turn/steer': (r) => ({ turnId: r.params.expectedTurnId }),
      'turn/interrupt': () => ({}),
    };
    const answer = m.method !== undefined && m.id !== undefined ? (this.answers[m.method] ?? defaults[m.method]) : undefined;
    if (!answer) return;
    const result = answer(m);
    if (result === undefined) return;
    setImmediate(() => {
      this.say(result instanceof Error ? { id: m.id, error: { code: -32600, message: result.message } } : { id: m.id, result });
      // Counted once the driver's reactions to the answer (promise callbacks) have all run.
      setImmediate(() => {
        this.answered.push(m.method!);
        this.wake();
      });
    });
  }
  closeInput(): void {
    this.inputClosed = true;
    this.wake();
  }
  signal(): void {}
  onStdout(): void {}
  onStderr(): void {}
  onExit(): void {}

  /** A line of the app-server's stdout. */
  say(m: unknown): void {
    this.driver.stdoutLine(typeof m === 'string' ? m : JSON.stringify(m));
  }

  /** Resolves once `check` holds (checked after every write, event and input close). */
  until(check: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const look = () => (check() ? resolve() : this.waiters.push(look));
      look();
    });
  }
  sentOf(method: string): Msg[] {
    return this.sent.filter((m) => m.method === method);
  }
  lines(): string[] {
    return this.events.flatMap((e) => (e.type === 'line' ? [e.text] : []));
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function start(peer: Peer, messages = ['task'], resumeId: string | null = null): void {
  peer.driver.begin(peer, messages, resumeId);
}

test('handshake: initialize, initialized, thread/start with the mode policy and model, then the turn; the thread id is reported', async () => {
  const peer = new Peer({}, 'edit');
  start(peer, ['one', 'two']);
  await peer.until(() => peer.sentOf('turn/start').length === 1);
  expect(peer.sent.map((m) => m.method)).toEqual(['initialize', 'initialized', 'thread/start', 'turn/start']);
  expect(peer.sentOf('thread/start')[0].params).toEqual({ model: 'gpt-test', sandbox: 'workspace-write', approvalPolicy: 'never' });
  expect(peer.sentOf('turn/start')[0].params).toEqual({
    threadId: 'th-1',
    input: [
      { type: 'text', text: 'one', text_elements: [] },
      { type: 'text', text: 'two', text_elements: [] },
    ],
  });
  expect(peer.events).toContainEqual({ type: 'agentSessionId', id: 'th-1' });
  expect(peer.driver.command(['x'], 'th-1')).toEqual(['--disable', 'unbounded_connection_retries', 'app-server']);
});

test('a resumed process asks for thread/resume with the kept id', async () => {
  const peer = new Peer({}, 'plan');
  start(peer, ['more'], 'th-old');
  await peer.until(() => peer.sentOf('turn/start').length === 1);
  expect(peer.sentOf('thread/resume')[0].params).toEqual({ threadId: 'th-old', model: 'gpt-test', sandbox: 'read-only', approvalPolicy: 'never', excludeTurns: true });
  expect(peer.sentOf('turn/start')[0].params.threadId).toBe('th-old');
});

test('a message sent while the turn is still being started steers it once it has an id', async () => {
  const peer = new Peer();
  start(peer);
  expect(peer.driver.deliver('early', 0)).toEqual({ outcome: 'delivered', steered: true });
  await peer.until(() => peer.sentOf('turn/steer').length === 1);
  expect(peer.sentOf('turn/steer')[0].params).toEqual({ threadId: 'th-1', expectedTurnId: 'turn-1', input: [{ type: 'text', text: 'early', text_elements: [] }] });
});

test('a steer that loses the race with the turn end starts the next turn instead', async () => {
  const peer = new Peer({ 'turn/steer': () => new Error('no active turn to steer') });
  start(peer);
  await peer.until(() => peer.answered.includes('turn/start'));
  peer.driver.deliver('late', 0);
  await peer.until(() => peer.sentOf('turn/start').length === 2);
  expect(peer.sentOf('turn/start')[1].params.input).toEqual([{ type: 'text', text: 'late', text_elements: [] }]);
  expect(peer.inputClosed).toBe(false);
});

test('the process is let go when a turn completes with nothing pending, and then takes no message', async () => {
  const peer = new Peer();
  start(peer);
  await peer.until(() => peer.answered.includes('turn/start'));
  peer.say({ method: 'turn/started', params: { turn: { id: 'turn-1' } } });
  expect(peer.inputClosed).toBe(false);
  peer.say({ method: 'turn/completed', params: { turn: { id: 'turn-1', status: 'completed' } } });
  expect(peer.inputClosed).toBe(true);
  expect(peer.driver.deliver('after', 0)).toMatchObject({ outcome: 'queue' });
  expect(peer.driver.processExited({ exitCode: 0, signal: null })).toEqual({ completedSuccessfully: true });
});

test('a turn/completed that overtakes the turn/start answer still lets the process go', async () => {
  const peer = new Peer();
  start(peer);
  await peer.until(() => peer.sentOf('turn/start').length === 1);
  peer.say({ method: 'turn/started', params: { turn: { id: 'turn-1' } } });
  peer.say({ method: 'turn/completed', params: { turn: { id: 'turn-1', status: 'completed' } } });
  expect(peer.inputClosed).toBe(false); // turn/start is still unanswered
  await peer.until(() => peer.inputClosed);
  expect(peer.driver.processExited({ exitCode: 0, signal: null })).toEqual({ completedSuccessfully: true });
});

test('a failed handshake is reported and ends the process; the exit is not a success', async () => {
  const peer = new Peer({ 'thread/start': () => new Error('model not found') });
  start(peer);
  await peer.until(() => peer.inputClosed);
  expect(peer.events).toContainEqual({ type: 'error', text: 'codex app-server: start failed: model not found' });
  expect(peer.lines()).toContain('[error] codex app-server: start failed: model not found');
  expect(peer.sentOf('turn/start')).toEqual([]);
  expect(peer.driver.processExited({ exitCode: 0, signal: null })).toEqual({ completedSuccessfully: false });
});

test('a peer that never answers fails at the named timeout', async () => {
  const peer = new Peer({ initialize: () => undefined }, 'full', { handshakeMs: 20 });
  start(peer);
  await peer.until(() => peer.inputClosed);
  expect(peer.events).toContainEqual({ type: 'error', text: 'codex app-server: start failed: initialize: no answer within 20 ms' });
});

test('server requests: approvals answered by mode with a line, anything else refused with an error', async () => {
  const peer = new Peer({}, 'edit');
  start(peer);
  await peer.until(() => peer.sentOf('turn/start').length === 1);
  peer.say({ id: 90, method: 'item/commandExecution/requestApproval', params: { command: 'rm -rf /' } });
  peer.say({ id: 91, method: 'item/fileChange/requestApproval', params: {} });
  peer.say({ id: 92, method: 'item/tool/requestUserInput', params: {} });
  await peer.until(() => peer.sent.filter((m) => m.method === undefined).length === 3);
  expect(peer.sent.filter((m) => m.method === undefined)).toEqual([
    { id: 90, result: { decision: 'decline' } },
    { id: 91, result: { decision: 'accept' } },
    { id: 92, error: { code: -32601, message: 'agentvisor does not serve item/tool/requestUserInput' } },
  ]);
  expect(peer.lines()).toEqual([
    '[approval] item/commandExecution/requestApproval → decline (mode edit)',
    '[approval] item/fileChange/requestApproval → accept (mode edit)',
    "[agentvisor] refused codex's request item/tool/requestUserInput",
  ]);
});

test('garbage on stdout is reported as a line and the session goes on', async () => {
  const peer = new Peer();
  start(peer);
  await peer.until(() => peer.sentOf('turn/start').length === 1);
  peer.say('\x1b[2Jnot json');
  peer.say({ method: 'item/completed', params: { item: { type: 'agentMessage', id: 'm', text: 'still here' } } });
  expect(peer.lines()).toEqual(['[agentvisor] codex app-server sent not JSON: "\\u001b[2Jnot json"', 'still here']);
  expect(peer.events).toContainEqual({ type: 'finalAnswer', text: 'still here' });
});

test('interrupt stops the running turn; with no turn it sends nothing', async () => {
  const peer = new Peer();
  peer.driver.interrupt(); // no process yet
  start(peer);
  await peer.until(() => peer.answered.includes('turn/start'));
  peer.driver.interrupt();
  await peer.until(() => peer.sentOf('turn/interrupt').length === 1);
  expect(peer.sentOf('turn/interrupt')[0].params).toEqual({ threadId: 'th-1', turnId: 'turn-1' });
  peer.say({ method: 'turn/completed', params: { turn: { id: 'turn-1', status: 'interrupted' } } });
  await peer.until(() => peer.inputClosed);
  expect(peer.events.filter((e) => e.type === 'turnEnded')).toEqual([{ type: 'turnEnded', ok: false }]);
  expect(peer.driver.processExited({ exitCode: 0, signal: null })).toEqual({ completedSuccessfully: false });
});
