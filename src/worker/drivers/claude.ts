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
import { claudeControlError, claudePermissionResponse, parseClaudeControl } from './claudeApprovals';
import type { AgentDriver, ApprovalAnswer, ApprovalResult, Delivery, DriverContext, UsageDelta } from './driver';
import { newApprovalId, reportStderrLine } from './shared';

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
  /** Permission requests of this process not answered yet: its input stays open meanwhile (closed, Claude fails the tool call). */
  asking: number;
}

/** A permission request Claude waits on (mode ask): where and how to answer it. */
interface Ask {
  run: Run;
  requestId: string;
  input: Record<string, unknown>;
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
  private readonly asks = new Map<string, Ask>();
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
    const run: Run = { proc, messagesSent: 0, resultsSeen: 0, notEchoed: new Set(), echoes: 0, echoesSinceResult: 0, lastResultError: null, inputClosed: false, costSoFar: 0, asking: 0 };
    this.run = run;
    for (const m of messages) this.write(run, m);
  }

  stdoutLine(line: string): void {
    const emit = this.ctx.emit;
    const control = parseClaudeControl(line, this.ctx.spec.cwd);
    if (control) return this.control(control);
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
      if (allAnswered(run) && !run.inputClosed && run.asking === 0) {
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

  answerApproval(approvalId: string, answer: ApprovalAnswer): ApprovalResult {
    const ask = this.asks.get(approvalId);
    if (!ask) return { ok: false, error: 'Claude is not waiting for it' };
    if (ask.run !== this.run || ask.run.inputClosed) return { ok: false, error: 'the Claude process that asked has ended' };
    this.settle(approvalId, ask);
    ask.run.proc.write(claudePermissionResponse(ask.requestId, ask.input, answer));
    return { ok: true };
  }

  stop(): void {
    // The session's signals end Claude; closing stdin first would only race them.
  }

  processExited(_exit: AgentExit): { completedSuccessfully: boolean } {
    const run = this.run;
    // What it asked lapses with it (the session withdraws those approvals).
    for (const [id, ask] of this.asks) if (ask.run === run) this.settle(id, ask);
    return { completedSuccessfully: !!run && run.resultsSeen > 0 && run.lastResultError === false && allAnswered(run) };
  }

  dispose(): void {
    this.run = undefined;
    this.asks.clear();
  }

  /** A control message from Claude: a permission request is relayed (mode ask); any other request is refused at once. */
  private control(c: NonNullable<ReturnType<typeof parseClaudeControl>>): void {
    const run = this.run;
    if (!run) return;
    if (c.type === 'cancel') {
      for (const [id, ask] of this.asks) if (ask.run === run && ask.requestId === c.requestId) this.withdraw(id, ask);
      return;
    }
    if (c.type === 'otherRequest' || this.ctx.spec.mode !== 'ask') {
      // Only mode ask starts Claude with the stdio prompt tool; anything else asking is answered, never left hanging.
      run.proc.write(claudeControlError(c.requestId, c.type === 'otherRequest' ? c.subtype : 'can_use_tool'));
      return;
    }
    const approvalId = newApprovalId();
    run.asking++;
    this.asks.set(approvalId, { run, requestId: c.requestId, input: c.input });
    this.ctx.emit({ type: 'approvalPending', approval: { approvalId, ...c.approval } });
  }

  private withdraw(approvalId: string, ask: Ask): void {
    this.settle(approvalId, ask);
    this.ctx.emit({ type: 'approvalResolved', approvalId });
  }

  private settle(approvalId: string, ask: Ask): void {
    this.asks.delete(approvalId);
    ask.run.asking--;
  }

  private write(run: Run, text: string): void {
    const uuid = crypto.randomUUID();
    run.notEchoed.add(uuid);
    run.proc.write(claudeUserMessage(text, uuid));
    run.messagesSent++;
  }
}
