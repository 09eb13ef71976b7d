/**
 * One session's life inside its worker: the agent process, its output, the
 * idle timer and kill escalation, and the turn bookkeeping that decides when a
 * Claude session is done. It knows nothing about sockets; the IPC server calls
 * in and subscribes to `onOutput`/`onState`.
 */
import { claudeUserMessage, turnCommand } from '../shared/agentCommands';
import type { EndReason, SessionStatus, WorkerSpec, WorkerState } from '../shared/protocol';
import { processStartTime } from '../shared/procInfo';
import { type AgentExit, type AgentProcess, spawnPiped, spawnPty } from './agentProcess';
import { formatClaudeLine } from './claudeFormatter';
import { LineSplitter } from './lineSplitter';
import { OutputLog } from './outputLog';
import { summarizeAgentError } from './agentErrors';

export interface SendOutcome {
  delivered: boolean;
  queued: boolean;
  note?: string;
}

/** Large enough for any stream-json event Claude emits; the output log cuts the formatted lines. */
const PIPE_LINE_CHARS = 64 * 1024 * 1024;

export class AgentSession {
  readonly output: OutputLog;
  private agent: AgentProcess | undefined;
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
  /** Claude: user messages written and `result` events seen; equal means every message is answered. */
  private messagesSent = 0;
  private resultsSeen = 0;
  private lastResultError: boolean | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private outputNotifyScheduled = false;
  private readonly stdoutSplitter: LineSplitter;
  private readonly stderrSplitter: LineSplitter;
  private outputListeners: Array<(nextOffset: number, at: string) => void> = [];
  private stateListeners: Array<(s: WorkerState) => void> = [];
  private endListeners: Array<() => void> = [];

  constructor(private readonly spec: WorkerSpec) {
    this.output = new OutputLog({
      sessionDir: spec.sessionDir,
      capacity: spec.ringLines,
      maxLineChars: spec.maxLineChars,
      flushMs: spec.outputFlushMs,
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
    const prompt = this.spec.resume ? this.spec.resume.message : this.spec.task;
    const cmd = turnCommand(this.spec.agent, this.spec, prompt, this.spec.resume?.agentSessionId ?? null);
    const launch = { command: this.spec.agentBin, args: cmd.args, cwd: this.spec.cwd, env: this.spec.env };
    try {
      this.agent = cmd.pty ? spawnPty(launch) : spawnPiped(launch);
    } catch (err) {
      this.fail(`could not start ${this.spec.agentBin}: ${(err as Error).message}`);
      return;
    }
    const agent = this.agent;
    this.agentPid = agent.pid > 0 ? agent.pid : null;
    this.agentStartTime = this.agentPid ? processStartTime(this.agentPid) : null;
    agent.onStdout((t) => this.stdoutSplitter.push(t));
    agent.onStderr((t) => this.stderrSplitter.push(t));
    agent.onExit((e) => this.agentExited(e));
    if (this.spec.agent === 'claude-code') {
      agent.write(claudeUserMessage(prompt));
      this.messagesSent++;
    }
    this.lastInputAt = new Date().toISOString();
    this.armIdleTimer();
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
    };
  }

  send(text: string, raw: boolean): SendOutcome {
    if (this.ended || !this.agent) return { delivered: false, queued: false, note: `session has ended (${this.status})` };
    if (this.status === 'killing') return { delivered: false, queued: false, note: 'session is being killed' };
    if (this.spec.agent === 'claude-code' && !raw) {
      this.agent.write(claudeUserMessage(text));
      this.messagesSent++;
    } else {
      // A PTY takes keystrokes: a message is a line of typed input ending in Enter.
      this.agent.write(raw ? text : text.replace(/\r?\n$/, '') + '\r');
    }
    this.touch();
    this.lastInputAt = new Date().toISOString();
    return { delivered: true, queued: false };
  }

  kill(reason: EndReason): WorkerState {
    if (this.ended || this.status === 'killing' || !this.agent) return this.state();
    this.status = 'killing';
    this.endReason = reason;
    this.agent.signal('SIGTERM');
    this.killTimer = setTimeout(() => this.agent?.signal('SIGKILL'), this.spec.killGraceMs);
    this.emitState();
    return this.state();
  }

  dispose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
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
        this.lastOutputAt = new Date().toISOString();
        for (const cb of this.outputListeners) cb(this.output.nextOffset, this.lastOutputAt);
      });
    }
  }

  private claudeLine(line: string): void {
    const ev = formatClaudeLine(line);
    if (ev.sessionId && ev.sessionId !== this.agentSessionId) {
      this.agentSessionId = ev.sessionId;
      this.emitState();
    }
    for (const l of ev.lines) this.append(l);
    if (ev.result) {
      this.resultsSeen++;
      this.lastResultError = ev.result.isError;
      if (ev.result.isError && ev.result.text) this.noteError(ev.result.text);
      // Every message sent has its answer: end of input lets Claude exit, ending the session.
      if (this.resultsSeen >= this.messagesSent) this.agent?.closeInput();
    }
  }

  private codexLine(line: string): void {
    const m = /^session id:\s*([0-9a-f-]{8,})/i.exec(line);
    if (m && m[1] !== this.agentSessionId) {
      this.agentSessionId = m[1];
      this.emitState();
    }
    // Only Codex's own error lines, not anything a command it ran happened to print.
    if (/^\s*(ERROR|error|Error)\b/.test(line)) this.noteError(line);
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
    else if (!onlyIfRecognised) this.errorSummary = text.split('\n')[0].slice(0, 300);
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

  private agentExited(e: AgentExit): void {
    this.stdoutSplitter.flush();
    this.stderrSplitter.flush();
    // Whatever the agent left running in its group goes with it.
    this.agent?.signal('SIGKILL');
    if (this.status === 'killing') {
      this.finish('killed', this.endReason ?? 'killed', e);
      return;
    }
    if (this.spec.agent === 'codex' && e.exitCode === 127 && this.output.nextOffset === 0) {
      this.fail(`could not start ${this.spec.agentBin}`);
      return;
    }
    this.finish('exited', 'exited', e);
  }

  private finish(status: SessionStatus, reason: EndReason, e: AgentExit): void {
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
          ? this.resultsSeen > 0 && this.lastResultError === false && this.resultsSeen >= this.messagesSent
          : e.exitCode === 0;
    } else {
      this.completedSuccessfully = false;
    }
    this.output.flushSync();
    this.emitState();
    for (const cb of this.endListeners) cb();
  }

  private emitState(): void {
    const s = this.state();
    for (const cb of this.stateListeners) cb(s);
  }
}
