/**
 * Codex as `codex exec` under a PTY: one process per message (`exec resume <thread>` for each
 * after the first), its terminal transcript scraped for the thread id, error lines and the
 * last answer. It takes no message mid-turn, so the session queues them; interrupt is SIGINT.
 * The fallback where `codex app-server` is unavailable.
 */
import { turnCommand } from '../../shared/agentCommands';
import type { AgentExit, AgentProcess } from '../agentProcess';
import { CodexAnswerTracker } from '../codexTranscript';
import type { AgentDriver, ApprovalResult, Delivery, DriverContext } from './driver';
import { NO_APPROVALS, reportStderrLine } from './shared';

const SESSION_ID_LINE = /^session id:\s*([0-9a-f-]{8,})/i;

export class CodexExecDriver implements AgentDriver {
  readonly protocol = 'codex-exec' as const;
  readonly transport = 'pty' as const;
  readonly messagesPerProcess = 1;
  private proc: AgentProcess | undefined;
  private readonly answer = new CodexAnswerTracker();
  private lastAnswer: string | null = null;

  constructor(private readonly ctx: DriverContext) {}

  command(messages: string[], resumeId: string | null): string[] {
    return turnCommand('codex', this.ctx.spec, messages[0], resumeId).args;
  }

  begin(proc: AgentProcess): void {
    // The message is in argv; the terminal is for raw keystrokes only.
    this.proc = proc;
    this.ctx.emit({ type: 'turnStarted' });
  }

  stdoutLine(line: string): void {
    const emit = this.ctx.emit;
    const m = SESSION_ID_LINE.exec(line);
    if (m) emit({ type: 'agentSessionId', id: m[1] });
    const blockEnded = this.answer.line(line);
    // Only Codex's own error lines, not anything a command it ran happened to print.
    // "ERROR: Reconnecting... 1/5" is Codex retrying, not the failure itself: only a recognised
    // cause may become the summary, so the final "Connection failed: …" (or a 401) names it.
    if (/^\s*(ERROR|error|Error)\b/.test(line)) emit({ type: 'error', text: line, onlyIfRecognised: /Reconnecting\.\.\./.test(line) });
    emit({ type: 'line', text: line });
    // Only when a block ends (and at exit): the answer is rebuilt from its lines each time it is read.
    if (blockEnded) this.reportAnswer();
  }

  stderrLine(line: string): void {
    reportStderrLine(this.ctx, line);
  }

  deliver(_text: string, queued: number): Delivery {
    return { outcome: 'queue', note: `Codex takes no new message during a turn; this becomes the next turn when the current one ends (${queued + 1} queued).` };
  }

  deliverRaw(text: string): Delivery {
    // Keystrokes for whatever the agent's terminal is asking.
    this.proc?.write(text);
    return { outcome: 'delivered' };
  }

  /** `exec` has no interrupt request: SIGINT ends the turn (and the process); the thread stays resumable. */
  interrupt(): void {
    this.proc?.signal('SIGINT');
  }

  answerApproval(): ApprovalResult {
    return NO_APPROVALS;
  }

  stop(): void {
    // Nothing to say over a terminal; the session's signals end Codex.
  }

  processExited(exit: AgentExit): { completedSuccessfully: boolean } {
    this.reportAnswer();
    const ok = exit.exitCode === 0;
    this.ctx.emit({ type: 'turnEnded', ok });
    return { completedSuccessfully: ok };
  }

  dispose(): void {
    this.proc = undefined;
  }

  /** The answer so far, reported when it changes (the tracker's view includes the block being read). */
  private reportAnswer(): void {
    const a = this.answer.answer;
    if (a !== null && a !== this.lastAnswer) {
      this.lastAnswer = a;
      this.ctx.emit({ type: 'finalAnswer', text: a });
    }
  }
}
