/**
 * `codex app-server` notifications → the lines a person (or a client model) reads, and the
 * facts a session keeps: token usage and each turn's outcome (issue 14 item 4).
 *
 * One line group per item, written when the item completes: the completed item carries the
 * whole text, so the `…/delta` notifications that stream it are not shown at all (showing
 * both would print everything twice). An item id already shown is not shown again (a resumed
 * thread may replay items). Every value comes from the agent and goes through
 * sanitize/inlineField before it is part of a line.
 */
import { inlineField, sanitize } from '../../shared/sanitize';
import { summarizeAgentError } from '../agentErrors';
import type { UsageDelta } from './driver';

export type TurnOutcome = 'completed' | 'failed' | 'interrupted';

export interface TurnEnd {
  turnId: string;
  outcome: TurnOutcome;
  /** One line a user can act on, for a failed turn. */
  errorSummary: string | null;
}

export interface FormattedNotification {
  lines: string[];
  /** Agent work since the previous delta. */
  usage?: UsageDelta;
  turnStarted?: string;
  /** The text of an agent message: the latest is the turn's answer. */
  answer?: string;
  turnEnded?: TurnEnd;
}

/** A command's output is shown up to this many lines (its head, where errors usually start)… */
export const COMMAND_OUTPUT_LINES = 20;
/** …each cut to this many characters: the output log is for reading, the agent saw it whole. */
export const COMMAND_LINE_CHARS = 400;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Text of several lines → lines, each sanitised. */
function textLines(text: string, prefix = ''): string[] {
  return text.split(/\r?\n/).map((l, i) => (i === 0 ? prefix : '') + sanitize(l));
}

function seconds(ms: number | null): string {
  return ms === null ? '' : ` (${(ms / 1000).toFixed(1)} s)`;
}

function commandLines(item: Obj): string[] {
  const exit = num(item.exitCode);
  const status = str(item.status) ?? '?';
  const end = exit !== null ? `exit ${exit}` : inlineField(status);
  const lines = [`[command] ${inlineField(str(item.command) ?? '?')} → ${end}${seconds(num(item.durationMs))}`];
  const output = str(item.aggregatedOutput);
  if (output) {
    const all = output.replace(/\n$/, '').split(/\r?\n/);
    for (const l of all.slice(0, COMMAND_OUTPUT_LINES)) {
      const clean = sanitize(l);
      lines.push('  ' + (clean.length > COMMAND_LINE_CHARS ? clean.slice(0, COMMAND_LINE_CHARS) + '…' : clean));
    }
    if (all.length > COMMAND_OUTPUT_LINES) lines.push(`  … ${all.length - COMMAND_OUTPUT_LINES} more lines`);
  }
  return lines;
}

function fileChangeLines(item: Obj): string[] {
  const changes = Array.isArray(item.changes) ? item.changes : [];
  const status = str(item.status);
  const note = status && status !== 'completed' ? ` (${inlineField(status)})` : '';
  return changes.map((c) => {
    const change = obj(c);
    const kind = obj(change.kind);
    const type = str(kind.type) ?? '?';
    const moved = str(kind.move_path);
    return `[file change] ${inlineField(type)} ${inlineField(str(change.path) ?? '?')}${moved ? ` → ${inlineField(moved)}` : ''}${note}`;
  });
}

function toolLines(item: Obj, server: string | null): string[] {
  const name = `${server ? inlineField(server) + '.' : ''}${inlineField(str(item.tool) ?? '?')}`;
  const args = item.arguments === undefined || item.arguments === null ? '' : ' ' + inlineField(JSON.stringify(item.arguments) ?? '');
  const shown = args.length > COMMAND_LINE_CHARS ? args.slice(0, COMMAND_LINE_CHARS) + '…' : args;
  const error = str(obj(item.error).message);
  return [`[tool] ${name}${shown} → ${inlineField(str(item.status) ?? '?')}${seconds(num(item.durationMs))}${error ? ' ' + inlineField(error) : ''}`];
}

/** The lines of one completed item; [] for items that are not the agent's doing (our own message). */
export function itemLines(item: Obj): string[] {
  switch (item.type) {
    case 'agentMessage':
      return textLines(str(item.text) ?? '');
    case 'commandExecution':
      return commandLines(item);
    case 'fileChange':
      return fileChangeLines(item);
    case 'mcpToolCall':
      return toolLines(item, str(item.server));
    case 'dynamicToolCall':
      return toolLines(item, str(item.namespace));
    case 'plan':
      return textLines(str(item.text) ?? '', '[plan] ');
    case 'webSearch':
      return [`[web search] ${inlineField(str(item.query) ?? '')}`];
    case 'userMessage':
    case 'reasoning':
    case 'hookPrompt':
      return [];
    default:
      return [`[item] ${inlineField(str(item.type) ?? '?')}`];
  }
}

const NO_TOKENS: UsageDelta = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, costUsd: null };

function breakdown(v: unknown): UsageDelta | null {
  const b = obj(v);
  const input = num(b.inputTokens);
  const output = num(b.outputTokens);
  if (input === null || output === null) return null;
  return { inputTokens: input, cachedInputTokens: num(b.cachedInputTokens) ?? 0, outputTokens: output, costUsd: null };
}

function minus(a: UsageDelta, b: UsageDelta): UsageDelta {
  return { inputTokens: a.inputTokens - b.inputTokens, cachedInputTokens: a.cachedInputTokens - b.cachedInputTokens, outputTokens: a.outputTokens - b.outputTokens, costUsd: null };
}

/**
 * Folds the notifications of one app-server process into lines, usage deltas and turn
 * outcomes. Codex reports the thread's running totals (`total`, history included: a resumed
 * thread reports its old totals before any turn) and the latest model call's (`last`). Only
 * work in a turn this process started counts; the totals before that are the baseline.
 */
export class CodexItemFormatter {
  /** The thread's totals at the last update (null: none seen yet). */
  private lastTotal: UsageDelta | null = null;
  /** Turns started by this process: usage in any other turn is history. */
  private readonly turns = new Set<string>();
  /** The running turn's own tokens, for its [result] line. */
  private turnTokens: UsageDelta = NO_TOKENS;
  private readonly shown = new Set<string>();
  /** The last error Codex reported in this turn, for the turn's errorSummary. */
  private lastError: string | null = null;

  notification(method: string, params: unknown): FormattedNotification {
    const p = obj(params);
    switch (method) {
      case 'item/completed': {
        const item = obj(p.item);
        const id = str(item.id);
        if (id !== null) {
          if (this.shown.has(id)) return { lines: [] };
          this.shown.add(id);
        }
        const answer = item.type === 'agentMessage' ? (str(item.text) ?? undefined) : undefined;
        return { lines: itemLines(item), answer };
      }
      case 'thread/tokenUsage/updated':
        return { lines: [], usage: this.usageUpdate(p) };
      case 'turn/started': {
        const id = str(obj(p.turn).id);
        if (id !== null) this.turns.add(id);
        this.turnTokens = NO_TOKENS;
        this.lastError = null;
        this.shown.clear(); // ids repeat only within a turn's replay; keeps the set bounded
        return { lines: [], turnStarted: id ?? undefined };
      }
      case 'turn/completed':
        return this.turnCompleted(obj(p.turn));
      case 'error': {
        const message = str(obj(p.error).message) ?? 'error without a message';
        if (p.willRetry === true) return { lines: textLines(message, '[retrying] ') };
        this.lastError = message;
        return { lines: textLines(message, '[error] ') };
      }
      // Not `configWarning`: 0.169 logs each one on stderr too (as ERROR), and stderr is shown.
      case 'warning':
      case 'deprecationNotice':
        return { lines: textLines(str(p.summary) ?? str(p.message) ?? JSON.stringify(p), '[warning] ') };
      default:
        return { lines: [] };
    }
  }

  /** The delta of one usage update, or undefined when it is history (or says nothing). */
  private usageUpdate(p: Obj): UsageDelta | undefined {
    const usage = obj(p.tokenUsage);
    const total = breakdown(usage.total);
    const inOurTurn = this.turns.has(str(p.turnId) ?? '');
    const previous = this.lastTotal;
    if (total) this.lastTotal = total;
    if (!inOurTurn) return undefined;
    // Without an earlier total, this update's own model call is the work done.
    const delta = total && previous ? minus(total, previous) : breakdown(usage.last);
    if (!delta || (delta.inputTokens === 0 && delta.outputTokens === 0)) return undefined;
    this.turnTokens = {
      ...delta,
      inputTokens: this.turnTokens.inputTokens + delta.inputTokens,
      cachedInputTokens: this.turnTokens.cachedInputTokens + delta.cachedInputTokens,
      outputTokens: this.turnTokens.outputTokens + delta.outputTokens,
    };
    return delta;
  }

  private turnCompleted(turn: Obj): FormattedNotification {
    const status = str(turn.status);
    const outcome: TurnOutcome = status === 'completed' ? 'completed' : status === 'interrupted' ? 'interrupted' : 'failed';
    const word = outcome === 'completed' ? 'success' : outcome;
    const lines = [`[result] ${word} tokens in=${this.turnTokens.inputTokens} out=${this.turnTokens.outputTokens}${seconds(num(turn.durationMs))}`];
    let errorSummary: string | null = null;
    if (outcome === 'failed') {
      const message = str(obj(turn.error).message) ?? this.lastError ?? `turn ended with status ${status ?? 'unknown'}`;
      // The `error` notification already printed Codex's message; do not print it twice.
      if (message !== this.lastError) lines.push(...textLines(message, '[error] '));
      errorSummary = summarizeAgentError(message) ?? inlineField(message.split('\n')[0]).slice(0, 300);
    }
    this.turnTokens = NO_TOKENS;
    return { lines, turnEnded: { turnId: str(turn.id) ?? '', outcome, errorSummary } };
  }
}
