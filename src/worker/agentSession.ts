/**
 * One session's life inside its worker, the same for every agent: the agent
 * processes of a conversation (a message after one has ended starts the next,
 * resuming it), the message queue, the output log, the idle timer and kill
 * escalation over the process tree. What is said to the agent and how its
 * output reads belong to its driver (drivers/driver.ts), chosen once in
 * drivers/factory.ts. It knows nothing about sockets; the IPC server calls in
 * and subscribes to `onOutput`/`onState`.
 */
import type { ApprovalDecision, EndReason, SessionStatus, WorkerSpec, WorkerState } from '../shared/protocol';
import { processStartTime } from '../shared/procInfo';
import { isEnded } from '../shared/sessionStatus';
import { sanitize } from '../shared/sanitize';
import { type AgentExit, type AgentLaunch, type AgentProcess, spawnPiped, spawnPty } from './agentProcess';
import { summarizeAgentError } from './agentErrors';
import { ApprovalBook, type ApprovalEvent, type ApproveAnswer } from './approvals';
import type { AgentDriver, Delivery, DriverEvent, DriverFactory, Transport } from './drivers/driver';
import { createDriver } from './drivers/factory';
import { IdleTimer } from './idleTimer';
import { LineSplitter } from './lineSplitter';
import { OutputLog } from './outputLog';
import { SessionSpend } from './sessionSpend';
import type { SessionTree } from './sessionTree';

export interface SendOutcome {
  delivered: boolean;
  queued: boolean;
  /** The message joined the turn in progress (protocols that can steer). */
  steered?: boolean;
  note?: string;
}

/** The part of SessionTree (the agent's processes and what they left behind) the session uses. */
export type ProcessTree = Pick<SessionTree, 'markEnv' | 'watch' | 'signal' | 'end' | 'dispose'>;

/** What crosses the session's boundary, injectable so the life cycle can be tested in process. */
export interface SessionDeps {
  createDriver: DriverFactory;
  spawn: (launch: AgentLaunch, transport: Transport) => AgentProcess;
}

const defaultDeps: SessionDeps = {
  createDriver,
  spawn: (launch, transport) => (transport === 'pty' ? spawnPty(launch) : spawnPiped(launch)),
};

/** Above any stream-json event Claude emits (a base64 image); all a worker holds of one line (a longer one is cut, shown raw). */
const PIPE_LINE_CHARS = 8 * 1024 * 1024;

export class AgentSession {
  readonly output: OutputLog;
  private status: SessionStatus = 'running';
  private endReason: EndReason | null = null;
  private exit: AgentExit | null = null;
  private endedAt: string | null = null;
  private agentPid: number | null = null;
  private agentStartTime: string | null = null;
  private agentSessionId: string | null;
  private errorSummary: string | null = null;
  private completedSuccessfully: boolean | null = null;
  private finalAnswer: string | null = null;
  /** Usage, turns and wall time, from the previous workers' on; ends the session at a limit of its budget. */
  private readonly spend: SessionSpend;
  private lastOutputAt: string | null = null;
  private lastInputAt: string | null = null;
  private readonly driver: AgentDriver;
  /** The agent process of the current turn(s); a continued conversation gets a new one. */
  private proc: AgentProcess | undefined;
  /**
   * Messages waiting for the next agent process: those the driver could not give the current
   * one (Codex exec takes none mid-turn, Claude none once its input is closed). Never dropped:
   * each reaches a later process.
   */
  private readonly queue: string[] = [];
  /** Permission requests the agent waits on (issue 15): the idle timer spares the session meanwhile. */
  private readonly approvals: ApprovalBook;
  /** Set by interrupt(): the exit that follows ends the turn, not a failure of the agent. */
  private interrupted = false;
  private readonly idle: IdleTimer;
  private killTimer: NodeJS.Timeout | undefined;
  private outputNotifyScheduled = false;
  private readonly stdoutSplitter: LineSplitter;
  private readonly stderrSplitter: LineSplitter;
  private outputListeners: Array<(nextOffset: number, at: string) => void> = [];
  private stateListeners: Array<(s: WorkerState) => void> = [];
  private endListeners: Array<() => void> = [];
  private approvalListeners: Array<(ev: ApprovalEvent) => void> = [];

  constructor(
    private readonly spec: WorkerSpec,
    private readonly tree: ProcessTree,
    private readonly deps: SessionDeps = defaultDeps,
  ) {
    this.output = new OutputLog({
      sessionDir: spec.sessionDir,
      capacity: spec.ringLines,
      maxLineChars: spec.maxLineChars,
      flushMs: spec.outputFlushMs,
      // Supervisor and /health learn of a refusing disk through the state (this.output is unset while it is built).
      onDiskProblem: () => this.output && this.emitState(),
    });
    this.agentSessionId = spec.resume?.agentSessionId ?? null;
    this.idle = new IdleTimer(
      this.spec.idleTimeoutMs,
      () => !this.ended && this.status !== 'killing',
      () => this.approvals.size > 0,
      () => this.kill('idle_timeout'),
    );
    this.spend = new SessionSpend(spec.limits, spec.spent, (limit) => {
      this.append(`[agentvisor] budget exceeded: ${limit}`);
      this.kill('budget_exceeded');
    });
    this.driver = deps.createDriver({ spec, emit: (ev) => this.driverEvent(ev) });
    const approvalEvents = { emit: (ev: ApprovalEvent) => this.approvalListeners.forEach((cb) => cb(ev)), line: (text: string) => this.append(text), changed: () => (this.touch(), this.emitState()) };
    this.approvals = new ApprovalBook(spec.approvals, (id, answer) => this.driver.answerApproval(id, answer), approvalEvents);
    const isPty = this.driver.transport === 'pty';
    this.stdoutSplitter = new LineSplitter(
      {
        terminal: isPty,
        maxLineChars: isPty ? spec.maxLineChars : PIPE_LINE_CHARS,
        partialFlushMs: isPty ? spec.partialLineFlushMs : 0,
      },
      (line) => this.driver.stdoutLine(line),
    );
    this.stderrSplitter = new LineSplitter({ terminal: true, maxLineChars: spec.maxLineChars, partialFlushMs: 0 }, (line) => this.driver.stderrLine(line));
  }

  onOutput(cb: (nextOffset: number, at: string) => void): void {
    this.outputListeners.push(cb);
  }
  onState(cb: (s: WorkerState) => void): void {
    this.stateListeners.push(cb);
  }
  /** Approval events (issue 15): a request now pending, or a pending one's outcome; told before the state that shows it. */
  onApproval(cb: (ev: ApprovalEvent) => void): void {
    this.approvalListeners.push(cb);
  }
  /** Fires once, when the session has ended and its final state is known. */
  onEnd(cb: () => void): void {
    this.endListeners.push(cb);
  }

  get ended(): boolean {
    return isEnded(this.status);
  }

  start(): void {
    const resume = this.spec.resume;
    this.startProcess(resume ? [resume.message] : [this.spec.task], resume?.agentSessionId ?? null);
    this.idle.start();
    this.spend.start();
  }

  /** Starts an agent process for `messages`, continuing the conversation `resumeId` if set. */
  private startProcess(messages: string[], resumeId: string | null): void {
    const launch = {
      command: this.spec.agentBin,
      args: this.driver.command(messages, resumeId),
      cwd: this.spec.cwd,
      cwdIdentity: this.spec.cwdIdentity,
      env: this.tree.markEnv(this.spec.env),
      confinement: this.spec.confinement,
    };
    let proc: AgentProcess;
    try {
      proc = this.deps.spawn(launch, this.driver.transport);
    } catch (err) {
      this.fail(`could not start ${this.spec.agentBin}: ${(err as Error).message}`);
      return;
    }
    this.interrupted = false;
    this.proc = proc;
    this.agentPid = proc.pid > 0 ? proc.pid : null;
    this.agentStartTime = this.agentPid ? processStartTime(this.agentPid) : null;
    this.tree.watch(proc);
    proc.onStdout((t) => this.stdoutSplitter.push(t));
    proc.onStderr((t) => this.stderrSplitter.push(t));
    proc.onExit((e) => this.agentExited(e));
    this.driver.begin(proc, messages, resumeId);
    this.lastInputAt = new Date().toISOString();
    this.touch();
    this.emitState();
  }

  state(): WorkerState {
    return {
      sessionId: this.spec.sessionId,
      status: this.status,
      workerPid: process.pid,
      workerStartTime: processStartTime(process.pid),
      agentPid: this.agentPid,
      agentStartTime: this.agentStartTime,
      nextOffset: this.output.nextOffset,
      lastOutputAt: this.lastOutputAt,
      lastInputAt: this.lastInputAt,
      endedAt: this.endedAt,
      exitCode: this.exit?.exitCode ?? null,
      signal: this.exit?.signal ?? null,
      endReason: this.endReason,
      completedSuccessfully: this.completedSuccessfully,
      agentSessionId: this.agentSessionId,
      errorSummary: this.errorSummary,
      finalAnswer: this.finalAnswer,
      outputNotPersisted: this.output.diskProblem,
      usage: this.spend.usage(),
      runMs: this.spend.runMs(),
      pendingApprovals: this.approvals.pending(),
    };
  }

  send(text: string, raw: boolean): SendOutcome {
    if (this.ended || !this.proc) return { delivered: false, queued: false, note: `session has ended (${this.status})` };
    if (this.status === 'killing') return { delivered: false, queued: false, note: 'session is being killed' };
    this.touch();
    this.lastInputAt = new Date().toISOString();
    const d: Delivery = raw ? this.driver.deliverRaw(text) : this.driver.deliver(text, this.queue.length);
    if (d.outcome === 'delivered') return { delivered: true, queued: false, ...(d.steered ? { steered: true } : {}), ...(d.note ? { note: d.note } : {}) };
    if (d.outcome === 'refused') return { delivered: false, queued: false, note: d.note };
    this.queue.push(text);
    return { delivered: false, queued: true, note: d.note };
  }

  /**
   * Stops the current turn but keeps the conversation (the driver knows how: Claude's interrupt
   * request, SIGINT for Codex exec). The next session_send continues the same conversation.
   */
  interrupt(): WorkerState {
    if (this.ended || this.status === 'killing' || !this.proc) return this.state();
    this.interrupted = true;
    this.queue.length = 0;
    this.append('[agentvisor] interrupting the current turn');
    this.driver.interrupt();
    return this.state();
  }

  /** Answers a permission request the agent is waiting on (issue 15); a decided one answers its first outcome, even after the end. */
  readonly answerApproval = (id: string, decision: ApprovalDecision, message: string | null, by: string): ApproveAnswer => this.approvals.answer(id, decision, message, by);

  kill(reason: EndReason): WorkerState {
    if (this.ended || this.status === 'killing' || !this.proc) return this.state();
    this.status = 'killing';
    this.endReason = reason;
    // Queued messages die with the session: a kill means stop, not "after these".
    this.queue.length = 0;
    this.driver.stop();
    // The whole tree, not only the agent's group: its commands may live outside it (sessionTree.ts).
    this.tree.signal('SIGTERM');
    this.killTimer = setTimeout(() => this.tree.signal('SIGKILL'), this.spec.killGraceMs);
    this.emitState();
    return this.state();
  }

  dispose(): void {
    this.idle.stop();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.approvals.dispose();
    this.spend.dispose();
    this.driver.dispose();
    this.tree.dispose();
    this.stdoutSplitter.dispose();
    this.stderrSplitter.dispose();
    this.output.close();
  }

  // ---- what the driver reports ---------------------------------------------

  private driverEvent(ev: DriverEvent): void {
    switch (ev.type) {
      case 'line':
        return this.append(ev.text);
      case 'agentSessionId':
        if (ev.id === this.agentSessionId) return;
        this.agentSessionId = ev.id;
        return this.emitState();
      case 'turnStarted':
        this.touch();
        return this.spend.turnStarted();
      case 'turnEnded':
        this.spend.turnEnded();
        // Once a turn, so the supervisor's view of usage is at most a turn old.
        return this.emitState();
      case 'usage':
        return this.spend.add(ev.delta);
      case 'finalAnswer':
        this.finalAnswer = ev.text;
        return;
      case 'error':
        return this.noteError(ev.text, ev.onlyIfRecognised);
      case 'approvalPending':
        return this.approvals.requested(ev.approval);
      case 'approvalResolved':
        return this.approvals.withdraw(ev.approvalId, 'the agent no longer waits for it');
    }
  }

  // ---- output ----------------------------------------------------------------

  private append(line: string): void {
    this.output.append(line);
    this.touch();
    if (!this.outputNotifyScheduled) {
      // Coalesce: a burst of lines is one notification carrying the newest offset.
      this.outputNotifyScheduled = true;
      setImmediate(() => {
        this.outputNotifyScheduled = false;
        // The burst goes to disk now, in the same wake-up, rather than from its own timer a
        // moment later: one wake-up per burst instead of two, and the lines are on disk
        // before anyone is told they exist.
        this.output.flushSync();
        this.lastOutputAt = new Date().toISOString();
        for (const cb of this.outputListeners) cb(this.output.nextOffset, this.lastOutputAt);
      });
    }
  }

  /** Records the first recognisable agent failure as the session's one-line summary. */
  private noteError(text: string, onlyIfRecognised = false): void {
    if (this.errorSummary) return;
    const summary = summarizeAgentError(text);
    if (summary) this.errorSummary = summary;
    else if (!onlyIfRecognised) this.errorSummary = sanitize(text.split('\n')[0]).slice(0, 300);
    else return;
    this.emitState();
  }

  // ---- timers ----------------------------------------------------------------

  private touch(): void {
    this.idle.touch();
  }

  // ---- end -------------------------------------------------------------------

  private fail(message: string): void {
    this.append(`[agentvisor] ${message}`);
    this.errorSummary = message;
    this.finish('failed', 'spawn_failed', { exitCode: null, signal: null }, false);
  }

  private agentExited(e: AgentExit): void {
    this.stdoutSplitter.flush();
    this.stderrSplitter.flush();
    // Whatever the agent left running goes with it, in its group or not (Claude does not end its
    // Bash command on SIGTERM; a daemon it started has left the group; see sessionTree.ts).
    this.tree.end();
    const { completedSuccessfully } = this.driver.processExited(e);
    // A process gone answers nothing more: what it was asking lapses with it.
    this.approvals.withdrawAll('the agent process ended');
    if (this.status === 'killing') {
      this.finish('killed', this.endReason ?? 'killed', e, false);
      return;
    }
    if (e.exitCode === 127 && this.output.nextOffset === 0) {
      this.fail(`could not start ${this.spec.agentBin}`);
      return;
    }
    if (this.queue.length > 0 && this.agentSessionId) {
      // Continue the same conversation with what was queued, as many as the driver's process takes.
      const batch = this.queue.splice(0, this.driver.messagesPerProcess);
      this.append(`[agentvisor] continuing the conversation with ${batch.length} queued message(s)`);
      this.startProcess(batch, this.agentSessionId);
      return;
    }
    if (this.queue.length > 0) {
      this.append(`[agentvisor] ${this.queue.length} queued message(s) not delivered: the agent never said its session id, so it cannot be resumed`);
      this.queue.length = 0;
    }
    this.finish('exited', this.interrupted ? 'interrupted' : 'exited', e, completedSuccessfully);
  }

  private finish(status: SessionStatus, reason: EndReason, e: AgentExit, completedSuccessfully: boolean): void {
    if (this.ended) return;
    this.idle.stop();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.spend.stop();
    this.status = status;
    this.endReason = reason;
    this.exit = e;
    this.endedAt = new Date().toISOString();
    this.completedSuccessfully = status === 'exited' && completedSuccessfully;
    // The summary says why a session failed. One that ended well keeps none: the real CLIs recover
    // from errors they reported (Claude answers the next message after a failed one, Codex
    // reconnects), and a command Codex ran may print a line starting with "Error".
    if (this.completedSuccessfully) this.errorSummary = null;
    this.output.flushSync();
    this.emitState();
    for (const cb of this.endListeners) cb();
  }

  private emitState(): void {
    const s = this.state();
    for (const cb of this.stateListeners) cb(s);
  }
}
