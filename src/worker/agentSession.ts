/**
 * One session's life inside its worker: the agent process, its output, the
 * idle timer and kill escalation, and the turn bookkeeping that decides when a
 * Claude session is done. It knows nothing about sockets; the IPC server calls
 * in and subscribes to `onOutput`/`onState`.
 */
import crypto from 'node:crypto';
import { claudeUserMessage, turnCommand } from '../shared/agentCommands';
import type { EndReason, SessionStatus, WorkerSpec, WorkerState } from '../shared/protocol';
import { processStartTime } from '../shared/procInfo';
import { type AgentExit, type AgentProcess, spawnPiped, spawnPty } from './agentProcess';
import { formatClaudeLine } from './claudeFormatter';
import { LineSplitter } from './lineSplitter';
import { OutputLog } from './outputLog';
import { sanitize, terminalText } from '../shared/sanitize';
import { CodexAnswerTracker } from './codexTranscript';
import { summarizeAgentError } from './agentErrors';
import { SessionTree } from './sessionTree';

export interface SendOutcome {
  delivered: boolean;
  queued: boolean;
  note?: string;
}

/** One agent process and what it has been told. */
interface Run {
  proc: AgentProcess;
  /** Claude: user messages written and `result` events seen. */
  messagesSent: number;
  resultsSeen: number;
  /** Claude: uuids of messages written that Claude has not echoed yet (taken up, see agentCommands.ts). */
  notEchoed: Set<string>;
  /** Claude: echoes seen in all, and since the last `result`. */
  echoes: number;
  echoesSinceResult: number;
  lastResultError: boolean | null;
  inputClosed: boolean;
}

/**
 * Claude has answered every message written to it. Claude Code echoes each message as it takes
 * it up, folding one sent mid-turn into the running turn, so "answered" is: every message echoed,
 * and a `result` after the last echo. An agent that echoes nothing (an older CLI) is taken to
 * answer each message with its own result.
 */
function allAnswered(run: Run): boolean {
  if (run.echoes === 0) return run.resultsSeen >= run.messagesSent;
  return run.resultsSeen > 0 && run.notEchoed.size === 0 && run.echoesSinceResult === 0;
}

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
  private lastOutputAt: string | null = null;
  private lastInputAt: string | null = null;
  private lastActivity = Date.now();
  /** The agent process of the current turn(s); a continued conversation gets a new one. */
  private run: Run | undefined;
  /**
   * Messages waiting for the next agent process: Codex takes no message mid-turn,
   * and Claude none once its input is closed. Never dropped: each becomes a turn.
   */
  private readonly queue: string[] = [];
  private readonly codexAnswer = new CodexAnswerTracker();
  private claudeAnswer: string | null = null;
  /** Set by interrupt(): the exit that follows ends the turn, not a failure of the agent. */
  private interrupted = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private outputNotifyScheduled = false;
  private readonly stdoutSplitter: LineSplitter;
  private readonly stderrSplitter: LineSplitter;
  private outputListeners: Array<(nextOffset: number, at: string) => void> = [];
  private stateListeners: Array<(s: WorkerState) => void> = [];
  private endListeners: Array<() => void> = [];

  constructor(
    private readonly spec: WorkerSpec,
    private readonly tree: SessionTree,
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
    const isPty = spec.agent === 'codex';
    this.stdoutSplitter = new LineSplitter(
      {
        terminal: isPty,
        maxLineChars: isPty ? spec.maxLineChars : PIPE_LINE_CHARS,
        partialFlushMs: isPty ? spec.partialLineFlushMs : 0,
      },
      (line) => (isPty ? this.codexLine(line) : this.claudeLine(line)),
    );
    this.stderrSplitter = new LineSplitter(
      { terminal: true, maxLineChars: spec.maxLineChars, partialFlushMs: 0 },
      (line) => this.stderrLine(line),
    );
  }

  onOutput(cb: (nextOffset: number, at: string) => void): void {
    this.outputListeners.push(cb);
  }
  onState(cb: (s: WorkerState) => void): void {
    this.stateListeners.push(cb);
  }
  /** Fires once, when the session has ended and its final state is known. */
  onEnd(cb: () => void): void {
    this.endListeners.push(cb);
  }

  get ended(): boolean {
    return this.status !== 'running' && this.status !== 'killing';
  }

  start(): void {
    const resume = this.spec.resume;
    this.startRun(resume ? [resume.message] : [this.spec.task], resume?.agentSessionId ?? null);
    this.armIdleTimer();
  }

  /** Starts an agent process for `messages` (Codex takes exactly one), continuing `resumeId` if set. */
  private startRun(messages: string[], resumeId: string | null): void {
    const cmd = turnCommand(this.spec.agent, this.spec, messages[0], resumeId);
    const launch = { command: this.spec.agentBin, args: cmd.args, cwd: this.spec.cwd, cwdIdentity: this.spec.cwdIdentity, env: this.tree.markEnv(this.spec.env) };
    let proc: AgentProcess;
    try {
      proc = cmd.pty ? spawnPty(launch) : spawnPiped(launch);
    } catch (err) {
      this.fail(`could not start ${this.spec.agentBin}: ${(err as Error).message}`);
      return;
    }
    const run: Run = {
      proc,
      messagesSent: 0,
      resultsSeen: 0,
      notEchoed: new Set(),
      echoes: 0,
      echoesSinceResult: 0,
      lastResultError: null,
      inputClosed: false,
    };
    this.interrupted = false;
    this.run = run;
    this.agentPid = proc.pid > 0 ? proc.pid : null;
    this.agentStartTime = this.agentPid ? processStartTime(this.agentPid) : null;
    this.tree.watch(proc);
    proc.onStdout((t) => this.stdoutSplitter.push(t));
    proc.onStderr((t) => this.stderrSplitter.push(t));
    proc.onExit((e) => this.agentExited(run, e));
    if (this.spec.agent === 'claude-code') {
      for (const m of messages) {
        this.writeClaudeMessage(run, m);
      }
    }
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
      finalAnswer: this.spec.agent === 'codex' ? this.codexAnswer.answer : this.claudeAnswer,
      outputNotPersisted: this.output.diskProblem,
    };
  }

  send(text: string, raw: boolean): SendOutcome {
    const run = this.run;
    if (this.ended || !run) return { delivered: false, queued: false, note: `session has ended (${this.status})` };
    if (this.status === 'killing') return { delivered: false, queued: false, note: 'session is being killed' };
    this.touch();
    this.lastInputAt = new Date().toISOString();
    if (raw) {
      // Keystrokes for whatever the agent's terminal (or stdin) is asking.
      run.proc.write(text);
      return { delivered: true, queued: false };
    }
    if (this.spec.agent === 'claude-code' && !run.inputClosed) {
      this.writeClaudeMessage(run, text);
      return { delivered: true, queued: false };
    }
    this.queue.push(text);
    return {
      delivered: false,
      queued: true,
      note:
        this.spec.agent === 'codex'
          ? `Codex takes no new message during a turn; this becomes the next turn when the current one ends (${this.queue.length} queued).`
          : 'Claude had finished answering; the conversation continues with this message.',
    };
  }

  /**
   * Stops the current turn but keeps the conversation: Claude gets its stream-json
   * interrupt request (it answers with a result and, its input then closing, ends);
   * Codex, which has no such request in `exec`, gets SIGINT. Either way the next
   * session_send continues the same conversation.
   */
  interrupt(): WorkerState {
    const run = this.run;
    if (this.ended || this.status === 'killing' || !run) return this.state();
    this.interrupted = true;
    this.queue.length = 0;
    this.append('[agentvisor] interrupting the current turn');
    if (this.spec.agent === 'claude-code' && !run.inputClosed) {
      run.proc.write(JSON.stringify({ type: 'control_request', request_id: `interrupt-${Date.now()}`, request: { subtype: 'interrupt' } }) + '\n');
    } else {
      run.proc.signal('SIGINT');
    }
    return this.state();
  }

  kill(reason: EndReason): WorkerState {
    const run = this.run;
    if (this.ended || this.status === 'killing' || !run) return this.state();
    this.status = 'killing';
    this.endReason = reason;
    // Queued messages die with the session: a kill means stop, not "after these".
    this.queue.length = 0;
    // The whole tree, not only the agent's group: its commands may live outside it (sessionTree.ts).
    this.tree.signal('SIGTERM');
    this.killTimer = setTimeout(() => this.tree.signal('SIGKILL'), this.spec.killGraceMs);
    this.emitState();
    return this.state();
  }

  dispose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.tree.dispose();
    this.stdoutSplitter.dispose();
    this.stderrSplitter.dispose();
    this.output.close();
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

  private writeClaudeMessage(run: Run, text: string): void {
    const uuid = crypto.randomUUID();
    run.notEchoed.add(uuid);
    run.proc.write(claudeUserMessage(text, uuid));
    run.messagesSent++;
  }

  private claudeLine(line: string): void {
    const ev = formatClaudeLine(line);
    if (ev.sessionId && ev.sessionId !== this.agentSessionId) {
      this.agentSessionId = ev.sessionId;
      this.emitState();
    }
    for (const l of ev.lines) this.append(l);
    if (ev.replayedUuid && this.run?.notEchoed.delete(ev.replayedUuid)) {
      this.run.echoes++;
      this.run.echoesSinceResult++;
    }
    if (ev.result && this.run) {
      const run = this.run;
      run.resultsSeen++;
      run.echoesSinceResult = 0;
      run.lastResultError = ev.result.isError;
      if (ev.result.isError && ev.result.text) this.noteError(ev.result.text);
      if (ev.result.text) this.claudeAnswer = terminalText(ev.result.text);
      // Every message sent has its answer: end of input lets Claude exit, ending the
      // session (or, if messages arrive meanwhile, continuing it in a new process).
      if (allAnswered(run) && !run.inputClosed) {
        run.inputClosed = true;
        run.proc.closeInput();
      }
    }
    if (ev.lines.some((l) => l.startsWith('[api retry]'))) this.noteError(ev.lines.join(' '), true);
  }

  private codexLine(line: string): void {
    const m = /^session id:\s*([0-9a-f-]{8,})/i.exec(line);
    if (m && m[1] !== this.agentSessionId) {
      this.agentSessionId = m[1];
      this.emitState();
    }
    this.codexAnswer.line(line);
    // Only Codex's own error lines, not anything a command it ran happened to print.
    // "ERROR: Reconnecting... 1/5" is Codex retrying, not the failure itself: only a recognised
    // cause may become the summary, so the final "Connection failed: …" (or a 401) names it.
    if (/^\s*(ERROR|error|Error)\b/.test(line)) this.noteError(line, /Reconnecting\.\.\./.test(line));
    this.append(line);
  }

  private stderrLine(line: string): void {
    this.noteError(line, true);
    this.append(line);
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
    this.lastActivity = Date.now();
  }

  /** One timer re-armed lazily: resetting a timer per output line would cost more than the line. */
  private armIdleTimer(): void {
    const due = this.lastActivity + this.spec.idleTimeoutMs - Date.now();
    this.idleTimer = setTimeout(() => {
      if (this.ended || this.status === 'killing') return;
      if (Date.now() - this.lastActivity >= this.spec.idleTimeoutMs) this.kill('idle_timeout');
      else this.armIdleTimer();
    }, Math.max(due, 10));
  }

  // ---- end -------------------------------------------------------------------

  private fail(message: string): void {
    this.append(`[agentvisor] ${message}`);
    this.errorSummary = message;
    this.finish('failed', 'spawn_failed', { exitCode: null, signal: null });
  }

  private agentExited(run: Run, e: AgentExit): void {
    this.stdoutSplitter.flush();
    this.stderrSplitter.flush();
    // Whatever the agent left running goes with it, in its group or not (Claude does not end its
    // Bash command on SIGTERM; a daemon it started has left the group; see sessionTree.ts).
    this.tree.end();
    if (this.status === 'killing') {
      this.finish('killed', this.endReason ?? 'killed', e);
      return;
    }
    if (e.exitCode === 127 && this.output.nextOffset === 0) {
      this.fail(`could not start ${this.spec.agentBin}`);
      return;
    }
    if (this.queue.length > 0 && this.agentSessionId) {
      // Continue the same conversation with what was queued. Claude takes them all
      // at once on stdin; Codex one per `exec resume`, the rest wait their turn.
      const batch = this.spec.agent === 'claude-code' ? this.queue.splice(0) : this.queue.splice(0, 1);
      this.append(`[agentvisor] continuing the conversation with ${batch.length} queued message(s)`);
      this.startRun(batch, this.agentSessionId);
      return;
    }
    if (this.queue.length > 0) {
      this.append(`[agentvisor] ${this.queue.length} queued message(s) not delivered: the agent never said its session id, so it cannot be resumed`);
      this.queue.length = 0;
    }
    this.finish('exited', this.interrupted ? 'interrupted' : 'exited', e, run);
  }

  private finish(status: SessionStatus, reason: EndReason, e: AgentExit, run?: Run): void {
    if (this.ended) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.status = status;
    this.endReason = reason;
    this.exit = e;
    this.endedAt = new Date().toISOString();
    if (status === 'exited') {
      this.completedSuccessfully =
        this.spec.agent === 'claude-code'
          ? !!run && run.resultsSeen > 0 && run.lastResultError === false && allAnswered(run)
          : e.exitCode === 0;
    } else {
      this.completedSuccessfully = false;
    }
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
