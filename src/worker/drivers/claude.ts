/**
 * Claude Code over stream-json on pipes. One process takes any number of messages on stdin
 * (a message sent mid-turn is folded into the running turn); once every message written has
 * its answer, the driver closes stdin and Claude exits. A message after that starts a new
 * process with `--resume`.
 */
import crypto from 'node:crypto';
import { claudeUserMessage, turnCommand } from '../../shared/agentCommands';
import { terminalText } from '../../shared/sanitize';
import type { AgentExit, AgentProcess } from '../agentProcess';
import { type ClaudeUsage, formatClaudeLine } from '../claudeFormatter';
import type { AgentDriver, ApprovalResult, Delivery, DriverContext, UsageDelta } from './driver';
import { NO_APPROVALS, reportStderrLine } from './shared';

/** One Claude process and what it has been told. */
interface Run {
  proc: AgentProcess;
  /** User messages written and `result` events seen. */
  messagesSent: number;
  resultsSeen: number;
  /** uuids of messages written that Claude has not echoed yet (taken up, see agentCommands.ts). */
  notEchoed: Set<string>;
  /** Echoes seen in all, and since the last `result`. */
  echoes: number;
  echoesSinceResult: number;
  lastResultError: boolean | null;
  inputClosed: boolean;
  /** Claude's `total_cost_usd` so far: it counts per process, from 0 again after a resume. */
  costSoFar: number;
}

/**
 * Claude has answered every message written to it. Claude Code echoes each message as it takes
 * it up, folding one sent mid-turn into the running turn, so "answered" is: every message echoed,
 * and a `result` after the last echo. An agent that echoes nothing (an older CLI) is taken to
 * answer each message with its own result.
 */
export function allAnswered(run: Pick<Run, 'echoes' | 'resultsSeen' | 'messagesSent' | 'notEchoed' | 'echoesSinceResult'>): boolean {
  if (run.echoes === 0) return run.resultsSeen >= run.messagesSent;
  return run.resultsSeen > 0 && run.notEchoed.size === 0 && run.echoesSinceResult === 0;
}

/** Claude's per-turn `usage` and per-process cumulative cost → the usage of this turn alone. */
export function claudeUsageDelta(usage: ClaudeUsage, costSoFar: number): UsageDelta {
  const cached = usage.cacheReadInputTokens;
  return {
    // Anthropic counts cache reads and writes apart from input_tokens; inputTokens here is all input, as Codex counts it.
    inputTokens: usage.inputTokens + usage.cacheCreationInputTokens + cached,
    cachedInputTokens: cached,
    outputTokens: usage.outputTokens,
    costUsd: usage.totalCostUsd === null ? null : Math.max(0, usage.totalCostUsd - costSoFar),
  };
}

export class ClaudeDriver implements AgentDriver {
  readonly protocol = 'claude' as const;
  readonly transport = 'pipes' as const;
  readonly messagesPerProcess = Infinity;
  private run: Run | undefined;
  /** What this worker's Claude processes have cost (each counts from 0): what is left of the budget for the next. */
  private costThisWorker = 0;

  constructor(private readonly ctx: DriverContext) {}

  command(_messages: string[], resumeId: string | null): string[] {
    // The messages travel on stdin as stream-json, not in argv.
    const { limits, spent } = this.ctx.spec;
    const left = limits.maxCostUsd === null ? null : limits.maxCostUsd - (spent?.usage?.costUsd ?? 0) - this.costThisWorker;
    return turnCommand('claude-code', { ...this.ctx.spec, maxBudgetUsd: left !== null && left > 0 ? left : null }, '', resumeId).args;
  }

  begin(proc: AgentProcess, messages: string[], _resumeId: string | null): void {
    const run: Run = { proc, messagesSent: 0, resultsSeen: 0, notEchoed: new Set(), echoes: 0, echoesSinceResult: 0, lastResultError: null, inputClosed: false, costSoFar: 0 };
    this.run = run;
    for (const m of messages) this.write(run, m);
  }

  stdoutLine(line: string): void {
    const emit = this.ctx.emit;
    const ev = formatClaudeLine(line);
    if (ev.sessionId) emit({ type: 'agentSessionId', id: ev.sessionId });
    if (ev.turnStart) emit({ type: 'turnStarted' });
    for (const l of ev.lines) emit({ type: 'line', text: l });
    const run = this.run;
    if (ev.replayedUuid && run?.notEchoed.delete(ev.replayedUuid)) {
      run.echoes++;
      run.echoesSinceResult++;
    }
    if (ev.result && run) {
      run.resultsSeen++;
      run.echoesSinceResult = 0;
      run.lastResultError = ev.result.isError;
      if (ev.result.isError && ev.result.text) emit({ type: 'error', text: ev.result.text });
      if (ev.result.text) emit({ type: 'finalAnswer', text: terminalText(ev.result.text) });
      if (ev.usage) {
        const delta = claudeUsageDelta(ev.usage, run.costSoFar);
        this.costThisWorker += delta.costUsd ?? 0;
        emit({ type: 'usage', delta });
        if (ev.usage.totalCostUsd !== null) run.costSoFar = ev.usage.totalCostUsd;
      }
      emit({ type: 'turnEnded', ok: !ev.result.isError });
      // Every message sent has its answer: end of input lets Claude exit, ending the
      // session (or, if messages arrive meanwhile, continuing it in a new process).
      if (allAnswered(run) && !run.inputClosed) {
        run.inputClosed = true;
        run.proc.closeInput();
      }
    }
    if (ev.lines.some((l) => l.startsWith('[api retry]'))) emit({ type: 'error', text: ev.lines.join(' '), onlyIfRecognised: true });
  }

  stderrLine(line: string): void {
    reportStderrLine(this.ctx, line);
  }

  deliver(text: string): Delivery {
    const run = this.run;
    if (run && !run.inputClosed) {
      this.write(run, text);
      return { outcome: 'delivered' };
    }
    return { outcome: 'queue', note: 'Claude had finished answering; the conversation continues with this message.' };
  }

  deliverRaw(text: string): Delivery {
    this.run?.proc.write(text);
    return { outcome: 'delivered' };
  }

  /** Claude's stream-json interrupt request (it answers with a result and, its input then closing, ends); SIGINT once stdin is closed. */
  interrupt(): void {
    const run = this.run;
    if (!run) return;
    if (!run.inputClosed) {
      run.proc.write(JSON.stringify({ type: 'control_request', request_id: `interrupt-${Date.now()}`, request: { subtype: 'interrupt' } }) + '\n');
    } else {
      run.proc.signal('SIGINT');
    }
  }

  answerApproval(): ApprovalResult {
    return NO_APPROVALS;
  }

  stop(): void {
    // The session's signals end Claude; closing stdin first would only race them.
  }

  processExited(_exit: AgentExit): { completedSuccessfully: boolean } {
    const run = this.run;
    return { completedSuccessfully: !!run && run.resultsSeen > 0 && run.lastResultError === false && allAnswered(run) };
  }

  dispose(): void {
    this.run = undefined;
  }

  private write(run: Run, text: string): void {
    const uuid = crypto.randomUUID();
    run.notEchoed.add(uuid);
    run.proc.write(claudeUserMessage(text, uuid));
    run.messagesSent++;
  }
}
