/**
 * The session life cycle (agentSession.ts) in process, against a tiny fake driver and fake agent
 * processes: turns, the queue and resume, interrupt, the idle timer, kill escalation. The
 * drivers' own parsing is tested in claudeDriver/codexExecDriver.test.ts, the real CLIs in
 * test/realAgents.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '../../src/shared/framing';
import type { WorkerSpec, WorkerState } from '../../src/shared/protocol';
import { AgentSession, type ProcessTree } from '../../src/worker/agentSession';
import { type ApprovalEvent, MAX_PENDING } from '../../src/worker/approvals';
import type { AgentDriver, ApprovalAnswer, ApprovalRequest, ApprovalResult, Delivery, DriverContext, DriverEvent } from '../../src/worker/drivers/driver';
import { FakeAgentProcess } from '../support/fakeAgentProcess';

/** A driver whose every answer the test sets; it records what the session asked of it. */
class FakeDriver implements AgentDriver {
  readonly protocol = 'claude' as const;
  readonly transport = 'pipes' as const;
  messagesPerProcess = 1;
  delivery: Delivery = { outcome: 'delivered' };
  ok = true;
  readonly begun: Array<{ messages: string[]; resumeId: string | null }> = [];
  readonly lines: string[] = [];
  readonly answers: Array<[string, ApprovalAnswer]> = [];
  interrupts = 0;
  stops = 0;
  disposed = false;
  constructor(private readonly ctx: DriverContext) {}
  emit(ev: DriverEvent): void {
    this.ctx.emit(ev);
  }
  command(messages: string[], resumeId: string | null): string[] {
    return ['--fake', ...(resumeId ? ['--resume', resumeId] : []), '--', ...messages];
  }
  begin(_proc: unknown, messages: string[], resumeId: string | null): void {
    this.begun.push({ messages, resumeId });
  }
  stdoutLine(line: string): void {
    this.lines.push(line);
    this.emit({ type: 'line', text: `out: ${line}` });
  }
  stderrLine(line: string): void {
    this.emit({ type: 'line', text: `err: ${line}` });
  }
  deliver(): Delivery {
    return this.delivery;
  }
  deliverRaw(): Delivery {
    return { outcome: 'refused', note: 'no terminal' };
  }
  interrupt(): void {
    this.interrupts++;
  }
  answerApproval(approvalId: string, answer: ApprovalAnswer): ApprovalResult {
    this.answers.push([approvalId, answer]);
    return { ok: true };
  }
  stop(): void {
    this.stops++;
  }
  processExited() {
    return { completedSuccessfully: this.ok };
  }
  dispose(): void {
    this.disposed = true;
  }
}

/** Records the signals sent to the process tree. */
class FakeTree implements ProcessTree {
  readonly signals: NodeJS.Signals[] = [];
  ended = 0;
  markEnv(env: Record<string, string>) {
    return { ...env, MARK: '1' };
  }
  watch(): void {}
  signal(sig: NodeJS.Signals): void {
    this.signals.push(sig);
  }
  end(): void {
    this.ended++;
  }
  dispose(): void {}
}

interface Rig {
  session: AgentSession;
  driver: FakeDriver;
  tree: FakeTree;
  procs: FakeAgentProcess[];
  launches: Array<{ args: string[]; env: Record<string, string> }>;
  ended: Promise<WorkerState>;
}

const dirs: string[] = [];
const sessions: AgentSession[] = [];
afterEach(() => {
  jest.useRealTimers();
  for (const s of sessions.splice(0)) s.dispose();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function rig(over: Partial<WorkerSpec> = {}, spawnError?: Error): Rig {
  const sessionDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentsession-'));
  dirs.push(sessionDir);
  const spec: WorkerSpec = {
    protocolVersion: PROTOCOL_VERSION,
    sessionId: 'sess-1',
    agent: 'claude-code',
    agentBin: '/bin/fake-agent',
    cwd: sessionDir,
    cwdIdentity: null,
    task: 'the task',
    model: null,
    mode: 'full',
    env: { A: 'b' },
    sessionDir,
    socketPath: path.join(sessionDir, 'sock'),
    secret: 'x'.repeat(32),
    resume: null,
    instructions: null,
    approvals: { allowTools: [], allowCommandPrefixes: [], timeoutMs: 0 },
    limits: { maxCostUsd: null, maxTokens: null, maxTurns: null, maxDurationMs: null },
    sandbox: 'none',
    confinement: null,
    idleTimeoutMs: 60_000,
    killGraceMs: 5_000,
    orphanTimeoutMs: 60_000,
    exitAckMs: 1_000,
    outputFlushMs: 1_000,
    partialLineFlushMs: 0,
    ringLines: 1_000,
    maxLineChars: 10_000,
    logLevel: 'error',
    ...over,
  };
  const procs: FakeAgentProcess[] = [];
  const launches: Rig['launches'] = [];
  let driver!: FakeDriver;
  const tree = new FakeTree();
  const session = new AgentSession(spec, tree, {
    createDriver: (ctx) => (driver = new FakeDriver(ctx)),
    spawn: (launch) => {
      if (spawnError) throw spawnError;
      launches.push({ args: launch.args, env: launch.env });
      const p = new FakeAgentProcess();
      procs.push(p);
      return p;
    },
  });
  sessions.push(session);
  const ended = new Promise<WorkerState>((resolve) => session.onEnd(() => resolve(session.state())));
  return { session, driver, tree, procs, launches, ended };
}

test('one turn: the task starts a process, the driver reads its output, its verdict ends the session', async () => {
  const r = rig();
  r.session.start();
  expect(r.launches).toEqual([{ args: ['--fake', '--', 'the task'], env: { A: 'b', MARK: '1' } }]);
  expect(r.driver.begun).toEqual([{ messages: ['the task'], resumeId: null }]);
  r.procs[0].stdout('hello\npart');
  r.procs[0].stderr('warn\n');
  r.driver.emit({ type: 'agentSessionId', id: 'agent-1' });
  r.driver.emit({ type: 'finalAnswer', text: 'the answer' });
  r.procs[0].exit(0);
  const s = await r.ended;
  expect(s).toMatchObject({ status: 'exited', endReason: 'exited', exitCode: 0, completedSuccessfully: true, agentSessionId: 'agent-1', finalAnswer: 'the answer', usage: null });
  // The partial last line is flushed before the driver is asked for its verdict.
  expect(r.driver.lines).toEqual(['hello', 'part']);
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['out: hello', 'err: warn', 'out: part']);
  expect(r.tree.ended).toBe(1);
});

test('usage events add up, turns are counted, and an unsuccessful verdict is not success', async () => {
  const r = rig();
  r.session.start();
  r.driver.emit({ type: 'turnEnded', ok: true });
  r.driver.emit({ type: 'usage', delta: { inputTokens: 10, cachedInputTokens: 2, outputTokens: 5, costUsd: null } });
  r.driver.emit({ type: 'usage', delta: { inputTokens: 7, cachedInputTokens: 0, outputTokens: 1, costUsd: 0.25 } });
  const states: WorkerState[] = [];
  r.session.onState((st) => states.push(st));
  r.driver.emit({ type: 'turnEnded', ok: false });
  // Each turn's end tells the supervisor, usage included.
  expect(states.map((st) => st.usage)).toEqual([{ inputTokens: 17, cachedInputTokens: 2, outputTokens: 6, costUsd: 0.25, turns: 2 }]);
  r.driver.emit({ type: 'usage', delta: { inputTokens: 1, cachedInputTokens: 1, outputTokens: 1, costUsd: 0.5 } });
  r.driver.ok = false;
  r.procs[0].exit(0);
  expect(await r.ended).toMatchObject({ completedSuccessfully: false, usage: { inputTokens: 18, cachedInputTokens: 3, outputTokens: 7, costUsd: 0.75, turns: 2 } });
});

test('messages the driver cannot take are queued and continue the conversation in new processes, as many at a time as the driver takes', async () => {
  const r = rig();
  r.session.start();
  r.driver.emit({ type: 'agentSessionId', id: 'agent-1' });
  r.driver.delivery = { outcome: 'queue', note: 'later' };
  expect(r.session.send('two', false)).toEqual({ delivered: false, queued: true, note: 'later' });
  expect(r.session.send('three', false)).toEqual({ delivered: false, queued: true, note: 'later' });
  r.procs[0].exit(0);
  expect(r.driver.begun[1]).toEqual({ messages: ['two'], resumeId: 'agent-1' });
  expect(r.launches[1].args).toEqual(['--fake', '--resume', 'agent-1', '--', 'two']);
  r.procs[1].exit(0);
  expect(r.driver.begun[2]).toEqual({ messages: ['three'], resumeId: 'agent-1' });
  r.procs[2].exit(0);
  expect(await r.ended).toMatchObject({ status: 'exited', completedSuccessfully: true });
  const lines = r.session.output.ring.read(0, 10, 10_000).lines;
  expect(lines).toEqual(['[agentvisor] continuing the conversation with 1 queued message(s)', '[agentvisor] continuing the conversation with 1 queued message(s)']);
});

test('a driver that takes every queued message gets them in one process', async () => {
  const r = rig();
  r.session.start();
  r.driver.messagesPerProcess = Infinity;
  r.driver.emit({ type: 'agentSessionId', id: 'agent-1' });
  r.driver.delivery = { outcome: 'queue', note: 'later' };
  r.session.send('two', false);
  r.session.send('three', false);
  r.procs[0].exit(0);
  expect(r.driver.begun[1]).toEqual({ messages: ['two', 'three'], resumeId: 'agent-1' });
});

test('queued messages without an agent session id cannot be resumed: said so, and the session ends', async () => {
  const r = rig();
  r.session.start();
  r.driver.delivery = { outcome: 'queue', note: 'later' };
  r.session.send('two', false);
  r.procs[0].exit(0);
  expect(await r.ended).toMatchObject({ status: 'exited' });
  expect(r.procs).toHaveLength(1);
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['[agentvisor] 1 queued message(s) not delivered: the agent never said its session id, so it cannot be resumed']);
});

test('delivered, steered and refused messages are answered as the driver says; nothing reaches an ended session', async () => {
  const r = rig();
  r.session.start();
  expect(r.session.send('a', false)).toEqual({ delivered: true, queued: false });
  r.driver.delivery = { outcome: 'delivered', steered: true };
  expect(r.session.send('b', false)).toEqual({ delivered: true, queued: false, steered: true });
  expect(r.session.send('keys', true)).toEqual({ delivered: false, queued: false, note: 'no terminal' });
  r.procs[0].exit(0);
  await r.ended;
  expect(r.session.send('c', false)).toEqual({ delivered: false, queued: false, note: 'session has ended (exited)' });
});

test('a session resumed by a new worker starts with the resume message and the kept agent session id', async () => {
  const r = rig({ resume: { agentSessionId: 'agent-9', message: 'go on' } });
  r.session.start();
  expect(r.driver.begun).toEqual([{ messages: ['go on'], resumeId: 'agent-9' }]);
  expect(r.session.state().agentSessionId).toBe('agent-9');
});

test('interrupt: the driver stops the turn, the queue is dropped, and the exit that follows ends the session as interrupted', async () => {
  const r = rig();
  r.session.start();
  r.driver.emit({ type: 'agentSessionId', id: 'agent-1' });
  r.driver.delivery = { outcome: 'queue', note: 'later' };
  r.session.send('two', false);
  r.session.interrupt();
  expect(r.driver.interrupts).toBe(1);
  r.procs[0].exit(130);
  expect(await r.ended).toMatchObject({ status: 'exited', endReason: 'interrupted' });
  expect(r.procs).toHaveLength(1);
});

test('kill: the driver is told, the tree gets SIGTERM, then SIGKILL after the grace period; the session ends killed', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const r = rig({ killGraceMs: 3_000 });
  r.session.start();
  r.session.kill('killed');
  expect(r.session.state().status).toBe('killing');
  expect(r.driver.stops).toBe(1);
  expect(r.tree.signals).toEqual(['SIGTERM']);
  expect(r.session.send('x', false)).toMatchObject({ delivered: false, note: 'session is being killed' });
  jest.advanceTimersByTime(2_999);
  expect(r.tree.signals).toEqual(['SIGTERM']);
  jest.advanceTimersByTime(1);
  expect(r.tree.signals).toEqual(['SIGTERM', 'SIGKILL']);
  r.procs[0].exit(null, 'SIGKILL');
  expect(await r.ended).toMatchObject({ status: 'killed', endReason: 'killed', completedSuccessfully: false, signal: 'SIGKILL' });
});

test('idle timer: no output and no input for idleTimeoutMs kills the session; activity postpones it', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const r = rig({ idleTimeoutMs: 1_000 });
  r.session.start();
  jest.advanceTimersByTime(600);
  r.procs[0].stdout('still here\n');
  jest.advanceTimersByTime(600);
  expect(r.session.state().status).toBe('running');
  jest.advanceTimersByTime(500);
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'idle_timeout' });
});

test('idle timer spares a session whose agent waits for a decision, and runs again once it is answered', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const r = rig({ idleTimeoutMs: 1_000 });
  r.session.start();
  r.driver.emit({ type: 'approvalPending', approval: { approvalId: 'ap-1', kind: 'command', summary: 'Bash: ls', request: {}, decisions: ['allow', 'deny'] } });
  jest.advanceTimersByTime(5_000);
  expect(r.session.state().status).toBe('running');
  expect(r.session.answerApproval('ap-1', 'deny', 'no', 'cli')).toMatchObject({ outcome: { decision: 'deny', message: 'no', decidedBy: 'cli' }, alreadyDecided: false });
  expect(r.driver.answers).toEqual([['ap-1', { decision: 'deny', message: 'no' }]]);
  jest.advanceTimersByTime(1_100);
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'idle_timeout' });
});

test('an agent that cannot be spawned fails the session with the reason, and the first error summary is kept', async () => {
  const r = rig({}, new Error('cwd is no longer the checked directory'));
  r.session.start();
  expect(await r.ended).toMatchObject({
    status: 'failed',
    endReason: 'spawn_failed',
    errorSummary: 'could not start /bin/fake-agent: cwd is no longer the checked directory',
  });
});

test('error events: the first becomes the summary (an unrecognised one only when not marked onlyIfRecognised); success clears it', async () => {
  const r = rig();
  r.session.start();
  r.driver.emit({ type: 'error', text: 'some warning', onlyIfRecognised: true });
  expect(r.session.state().errorSummary).toBeNull();
  r.driver.emit({ type: 'error', text: 'it broke\nsecond line' });
  r.driver.emit({ type: 'error', text: 'later' });
  expect(r.session.state().errorSummary).toBe('it broke');
  r.procs[0].exit(0);
  expect(await r.ended).toMatchObject({ errorSummary: null, completedSuccessfully: true });
});

test('exit 127 before any output: the binary could not be started', async () => {
  const r = rig();
  r.session.start();
  r.procs[0].exit(127);
  expect(await r.ended).toMatchObject({ status: 'failed', endReason: 'spawn_failed', errorSummary: 'could not start /bin/fake-agent' });
});

test('dispose releases the driver', () => {
  const r = rig();
  r.session.start();
  r.session.dispose();
  sessions.length = 0;
  expect(r.driver.disposed).toBe(true);
});

// ---- approvals (issue 15): rules, session grants, the timeout, idempotency --------------------

const ask = (approvalId: string, over: Partial<ApprovalRequest> = {}): DriverEvent => ({
  type: 'approvalPending',
  approval: { approvalId, kind: 'command', summary: 'Bash: npm test', request: { command: 'npm test' }, decisions: ['allow', 'allow_for_session', 'deny'], tool: 'Bash', command: 'npm test', ...over },
});

function approvalRig(approvals: Partial<WorkerSpec['approvals']> = {}) {
  const r = rig({ approvals: { allowTools: [], allowCommandPrefixes: [], timeoutMs: 0, ...approvals } });
  const events: ApprovalEvent[] = [];
  r.session.onApproval((e) => events.push(e));
  r.session.start();
  return { ...r, events };
}

test('a pending request is held and told (event, state, output line); an answer reaches the driver once, a repeat says alreadyDecided with the first outcome', async () => {
  const r = approvalRig();
  r.driver.emit(ask('ap-1'));
  expect(r.events).toEqual([
    { approval: expect.objectContaining({ approvalId: 'ap-1', kind: 'command', summary: 'Bash: npm test', decisions: ['allow', 'allow_for_session', 'deny'], createdAt: expect.any(String) }) },
  ]);
  expect(r.session.state().pendingApprovals).toEqual([expect.objectContaining({ approvalId: 'ap-1' })]);
  const first = r.session.answerApproval('ap-1', 'allow', null, 'connection:a');
  expect(first).toMatchObject({ alreadyDecided: false, outcome: { approvalId: 'ap-1', decision: 'allow', message: null, decidedBy: 'connection:a' } });
  const again = r.session.answerApproval('ap-1', 'deny', 'too late', 'cli');
  expect(again).toEqual({ outcome: (first as { outcome: unknown }).outcome, alreadyDecided: true });
  expect(r.driver.answers).toEqual([['ap-1', { decision: 'allow' }]]);
  expect(r.session.state().pendingApprovals).toEqual([]);
  expect(r.events.filter((e) => 'outcome' in e)).toHaveLength(1);
  expect(r.session.answerApproval('nope', 'allow', null, 'cli')).toEqual({ error: 'no approval nope in this session' });
  r.session.output.flushSync();
  expect(r.session.output.ring.read(0, 100, 100_000).lines).toEqual(['[approval] pending ap-1: Bash: npm test', '[approval] ap-1 allowed by connection:a: Bash: npm test']);
});

test('rules answer allow themselves (decidedBy rule, no pending event): allowTools, and allowCommandPrefixes only for a plain command', () => {
  const r = approvalRig({ allowTools: ['Read'], allowCommandPrefixes: ['npm test'] });
  r.driver.emit(ask('ap-read', { tool: 'Read', kind: 'tool', command: undefined, summary: 'Read' }));
  r.driver.emit(ask('ap-npm', { command: 'npm test -- --watch=false' }));
  // Starts with the prefix, but a shell would run more than `npm test`: asked, not ruled.
  r.driver.emit(ask('ap-chain', { command: 'npm test && rm -rf ~' }));
  r.driver.emit(ask('ap-testing', { command: 'npm testing' }));
  expect(r.driver.answers).toEqual([
    ['ap-read', { decision: 'allow' }],
    ['ap-npm', { decision: 'allow' }],
  ]);
  expect(r.events.filter((e) => 'outcome' in e).map((e) => 'outcome' in e && [e.outcome.approvalId, e.outcome.decidedBy])).toEqual([
    ['ap-read', 'rule'],
    ['ap-npm', 'rule'],
  ]);
  expect(r.session.state().pendingApprovals.map((p) => p.approvalId)).toEqual(['ap-chain', 'ap-testing']);
});

test('allow_for_session with a scope: later requests of that tool and command prefix are allowed by rule, others still ask; without a scope (the agent remembers) nothing is ruled', () => {
  const r = approvalRig();
  r.driver.emit(ask('ap-1', { sessionScope: { tool: 'Bash', match: 'commandPrefix', value: 'npm test' } }));
  r.driver.emit(ask('ap-2', { command: 'npm test', sessionScope: { tool: 'Bash', match: 'commandPrefix', value: 'npm test' } }));
  r.session.answerApproval('ap-1', 'allow_for_session', null, 'cli');
  // ap-2 was already waiting and is covered: answered too.
  r.driver.emit(ask('ap-3', { command: 'npm test src' }));
  r.driver.emit(ask('ap-4', { command: 'npm publish' }));
  r.driver.emit(ask('ap-5', { tool: 'Write', kind: 'file_change', command: undefined }));
  expect(r.driver.answers.map(([id, a]) => [id, a.decision])).toEqual([
    ['ap-1', 'allow_for_session'],
    ['ap-2', 'allow'],
    ['ap-3', 'allow'],
  ]);
  expect(r.session.state().pendingApprovals.map((p) => p.approvalId)).toEqual(['ap-4', 'ap-5']);
  const codexLike = approvalRig();
  codexLike.driver.emit(ask('c-1'));
  codexLike.session.answerApproval('c-1', 'allow_for_session', null, 'cli');
  codexLike.driver.emit(ask('c-2'));
  expect(codexLike.session.state().pendingApprovals.map((p) => p.approvalId)).toEqual(['c-2']);
});

test('the timeout denies with a message the agent sees (decidedBy timeout); 0 waits for ever', () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const r = approvalRig({ timeoutMs: 1_000 });
  r.driver.emit(ask('ap-1'));
  jest.advanceTimersByTime(999);
  expect(r.driver.answers).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(r.driver.answers).toEqual([['ap-1', { decision: 'deny', message: expect.stringContaining('No decision within 1 s') }]]);
  expect(r.session.answerApproval('ap-1', 'allow', null, 'cli')).toMatchObject({ alreadyDecided: true, outcome: { decision: 'deny', decidedBy: 'timeout' } });
  const forever = approvalRig({ timeoutMs: 0 });
  forever.driver.emit(ask('ap-2'));
  jest.advanceTimersByTime(24 * 3600_000);
  expect(forever.session.state().pendingApprovals).toHaveLength(1);
});

test('the agent withdrawing one, or its process ending, resolves it as withdrawn by the agent; the final state holds none', async () => {
  const r = approvalRig();
  r.driver.emit(ask('ap-1'));
  r.driver.emit(ask('ap-2'));
  r.driver.emit({ type: 'approvalResolved', approvalId: 'ap-1' });
  r.procs[0].exit(0);
  const end = await r.ended;
  expect(end.pendingApprovals).toEqual([]);
  expect(r.events.filter((e) => 'outcome' in e).map((e) => 'outcome' in e && [e.outcome.approvalId, e.outcome.decision, e.outcome.decidedBy])).toEqual([
    ['ap-1', 'withdrawn', 'agent'],
    ['ap-2', 'withdrawn', 'agent'],
  ]);
  expect(r.driver.answers).toEqual([]);
  // Still answered after the end: who decided, not an error.
  expect(r.session.answerApproval('ap-2', 'allow', null, 'cli')).toMatchObject({ alreadyDecided: true, outcome: { decision: 'withdrawn' } });
});

test('a decision the driver cannot deliver is an error and the request stays pending', () => {
  const r = approvalRig();
  r.driver.emit(ask('ap-1'));
  r.driver.answerApproval = () => ({ ok: false, error: 'the process that asked has ended' });
  expect(r.session.answerApproval('ap-1', 'allow', null, 'cli')).toEqual({ error: 'approval ap-1 could not be answered: the process that asked has ended' });
  expect(r.session.state().pendingApprovals).toHaveLength(1);
});

test('a flood of requests: past MAX_PENDING held at once, more are denied at once and never held', () => {
  const r = approvalRig();
  for (let i = 0; i < MAX_PENDING + 5; i++) r.driver.emit(ask(`ap-${i}`));
  expect(r.session.state().pendingApprovals).toHaveLength(MAX_PENDING);
  expect(r.driver.answers).toHaveLength(5);
  expect(r.driver.answers[0]).toEqual([`ap-${MAX_PENDING}`, { decision: 'deny', message: expect.stringContaining('already waiting') }]);
});

// ---- budgets (issue 18 item 2): the worker ends the session at a limit, through the kill path ----

const usage = (inputTokens: number, outputTokens: number, costUsd: number | null) => ({ type: 'usage' as const, delta: { inputTokens, cachedInputTokens: 0, outputTokens, costUsd } });
const NONE = { maxCostUsd: null, maxTokens: null, maxTurns: null, maxDurationMs: null };

test('maxCostUsd: the usage report that reaches it prints the limit, interrupts the agent and ends the session budget_exceeded', async () => {
  const r = rig({ limits: { ...NONE, maxCostUsd: 0.5 } });
  r.session.start();
  r.driver.emit(usage(10, 5, 0.3));
  expect(r.session.state().status).toBe('running');
  r.driver.emit(usage(10, 5, 0.31));
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'budget_exceeded' });
  expect(r.driver.stops).toBe(1);
  expect(r.tree.signals).toEqual(['SIGTERM']);
  r.procs[0].exit(null, 'SIGTERM');
  expect(await r.ended).toMatchObject({ status: 'killed', endReason: 'budget_exceeded', completedSuccessfully: false, usage: { costUsd: 0.61 } });
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['[agentvisor] budget exceeded: maxCostUsd 0.50 (spent 0.61)']);
});

test('a continued session counts on from what its previous workers spent (spec.spent), and maxTokens covers them all', async () => {
  const prior = { inputTokens: 60, cachedInputTokens: 4, outputTokens: 20, costUsd: null, turns: 2 };
  const r = rig({ limits: { ...NONE, maxTokens: 100 }, spent: { usage: prior, runMs: 5_000 }, resume: { agentSessionId: 'agent-1', message: 'go on' } });
  r.session.start();
  expect(r.session.state()).toMatchObject({ usage: prior, status: 'running' });
  expect(r.session.state().runMs).toBeGreaterThanOrEqual(5_000);
  r.driver.emit(usage(10, 9, null));
  expect(r.session.state()).toMatchObject({ status: 'running', usage: { inputTokens: 70, outputTokens: 29, turns: 2 } });
  r.driver.emit({ type: 'turnEnded', ok: true });
  expect(r.session.state().usage?.turns).toBe(3);
  r.driver.emit(usage(1, 0, null));
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'budget_exceeded' });
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['[agentvisor] budget exceeded: maxTokens 100 (spent 100)']);
});

test('maxTurns: the last allowed turn ends normally; a turn past it is stopped as it starts', async () => {
  const r = rig({ limits: { ...NONE, maxTurns: 2 } });
  r.session.start();
  for (let i = 0; i < 2; i++) {
    r.driver.emit({ type: 'turnStarted' });
    r.driver.emit({ type: 'turnEnded', ok: true });
  }
  expect(r.session.state().status).toBe('running');
  r.driver.emit({ type: 'turnStarted' });
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'budget_exceeded' });
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['[agentvisor] budget exceeded: maxTurns 2 (taken 2)']);
});

test('maxTurns with a driver that does not say when a turn starts: the turn past the limit is stopped as it ends', async () => {
  const r = rig({ limits: { ...NONE, maxTurns: 2 } });
  r.session.start();
  r.driver.emit({ type: 'turnEnded', ok: true });
  r.driver.emit({ type: 'turnEnded', ok: true });
  expect(r.session.state().status).toBe('running');
  r.driver.emit({ type: 'turnEnded', ok: true });
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'budget_exceeded' });
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['[agentvisor] budget exceeded: maxTurns 2 (taken 3)']);
});

test("maxDurationMs: the wall-time timer, shortened by the previous workers' time, ends the session; an ended session's time stops", async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const r = rig({ limits: { ...NONE, maxDurationMs: 10_000 }, spent: { usage: null, runMs: 4_000 } });
  r.session.start();
  jest.advanceTimersByTime(5_999);
  expect(r.session.state().status).toBe('running');
  jest.advanceTimersByTime(1);
  expect(r.session.state()).toMatchObject({ status: 'killing', endReason: 'budget_exceeded', runMs: 10_000 });
  expect(r.session.output.ring.read(0, 10, 10_000).lines).toEqual(['[agentvisor] budget exceeded: maxDurationMs 10000 (ran 10000)']);
  r.procs[0].exit(null, 'SIGTERM');
  jest.advanceTimersByTime(3_000);
  expect(r.session.state()).toMatchObject({ status: 'killed', runMs: 10_000 });
});

test('no limits: usage and time are only counted', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const r = rig({ idleTimeoutMs: 10_000_000 });
  r.session.start();
  r.driver.emit(usage(1_000_000, 1_000_000, 1_000));
  jest.advanceTimersByTime(1_000_000);
  expect(r.session.state()).toMatchObject({ status: 'running', runMs: 1_000_000 });
});
