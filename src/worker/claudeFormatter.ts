/**
 * Claude Code's stream-json events → lines a person (or a client model) can
 * read, plus the facts the worker needs: the agent's session id, and each
 * turn's outcome from its `result` event (the exit code alone cannot tell a
 * failed turn from a good one).
 *
 * Every value set inside a formatted line goes through `inlineField`: a newline
 * in a cwd, model or tool name would otherwise make one line in memory and two
 * on disk, shifting offsets once the session ends.
 */
import { inlineField } from '../shared/sanitize';

export interface FormattedEvent {
  lines: string[];
  sessionId?: string;
  /** Present on a `result` event: the turn is over. */
  result?: { isError: boolean; text: string };
  /** Present on a `result` that reports usage: the turn's tokens and the process's cost so far. */
  usage?: ClaudeUsage;
  /** Claude's `system/init` event, which opens each turn. */
  turnStart?: true;
  /** Present on Claude's echo of a stdin message (--replay-user-messages): the uuid it was sent with. */
  replayedUuid?: string;
}

/** A `result` event's `usage` (this turn's tokens) and `total_cost_usd` (this process's so far). */
export interface ClaudeUsage {
  inputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  outputTokens: number;
  totalCostUsd: number | null;
}

/** A token count as Claude reports it; anything else (absent, negative, not a number) counts 0. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

function resultUsage(e: Record<string, unknown>): ClaudeUsage | undefined {
  const u = e.usage;
  if (!u || typeof u !== 'object' || Array.isArray(u)) return undefined;
  const r = u as Record<string, unknown>;
  const cost = e.total_cost_usd;
  return {
    inputTokens: count(r.input_tokens),
    cacheCreationInputTokens: count(r.cache_creation_input_tokens),
    cacheReadInputTokens: count(r.cache_read_input_tokens),
    outputTokens: count(r.output_tokens),
    totalCostUsd: typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : null,
  };
}

/** Tool inputs worth showing, most telling first. */
const KEY_ARGS = ['file_path', 'path', 'command', 'pattern', 'url', 'query', 'description', 'prompt'];
const MAX_SNIPPET = 300;

function snippet(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > MAX_SNIPPET ? one.slice(0, MAX_SNIPPET) + '…' : one;
}

function textLines(prefix: string, text: string): string[] {
  const lines = text.split('\n');
  return lines.map((l, i) => (i === 0 ? prefix + l : l));
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((c) => (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string' ? (c as { text: string }).text : '')).join(' ');
  }
  return '';
}

function formatToolUse(block: Record<string, unknown>): string {
  const input = (block.input ?? {}) as Record<string, unknown>;
  const key = KEY_ARGS.find((k) => typeof input[k] === 'string');
  const arg = key ? ` ${key}=${snippet(String(input[key]))}` : '';
  return `[tool] ${inlineField(String(block.name ?? '?'))}${arg}`;
}

function contentBlocks(event: Record<string, unknown>): Record<string, unknown>[] {
  const message = event.message as { content?: unknown } | undefined;
  const content = message?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content.filter((b) => b && typeof b === 'object') as Record<string, unknown>[]) : [];
}

export function formatClaudeLine(line: string): FormattedEvent {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return { lines: [line] }; // not stream-json: keep it verbatim
  }
  if (!event || typeof event !== 'object' || Array.isArray(event)) return { lines: [line] };
  const e = event as Record<string, unknown>;
  const sessionId = typeof e.session_id === 'string' ? e.session_id : undefined;
  switch (e.type) {
    case 'system':
      if (e.subtype === 'init') {
        return { sessionId, turnStart: true, lines: [`[session] ${inlineField(sessionId ?? '?')} model=${inlineField(String(e.model ?? '?'))} cwd=${inlineField(String(e.cwd ?? '?'))}`] };
      }
      if (e.subtype === 'api_retry') {
        // Claude retries failed model calls (a bad key included) for minutes: say so at once.
        const status = e.error_status === undefined ? '' : ` HTTP ${inlineField(String(e.error_status))}`;
        const why = typeof e.error === 'string' ? ` ${snippet(e.error)}` : '';
        return { sessionId, lines: [`[api retry] attempt ${inlineField(String(e.attempt ?? '?'))}/${inlineField(String(e.max_retries ?? '?'))}${status}${why}`] };
      }
      return { sessionId, lines: [] };
    case 'assistant': {
      const lines: string[] = [];
      for (const block of contentBlocks(e)) {
        if (block.type === 'text' && typeof block.text === 'string') lines.push(...textLines('', block.text));
        else if (block.type === 'tool_use') lines.push(formatToolUse(block));
        else if (block.type === 'thinking' && typeof block.thinking === 'string') lines.push(`[thinking] ${snippet(block.thinking)}`);
      }
      return { sessionId, lines };
    }
    case 'user': {
      // The echo of a message we wrote: no line (the client wrote it), but the worker counts it.
      if (e.isReplay === true) return { sessionId, lines: [], replayedUuid: typeof e.uuid === 'string' ? e.uuid : undefined };
      const lines: string[] = [];
      for (const block of contentBlocks(e)) {
        if (block.type === 'tool_result') {
          const tag = block.is_error === true ? '[tool error]' : '[tool result]';
          lines.push(`${tag} ${snippet(toolResultText(block.content))}`);
        }
      }
      return { sessionId, lines };
    }
    case 'result': {
      const isError = e.is_error === true || (typeof e.subtype === 'string' && e.subtype !== 'success');
      const text = typeof e.result === 'string' ? e.result : '';
      const secs = typeof e.duration_ms === 'number' ? (e.duration_ms / 1000).toFixed(1) + 's' : '?';
      const cost = typeof e.total_cost_usd === 'number' ? '$' + e.total_cost_usd.toFixed(4) : '?';
      const head = `[result] ${isError ? 'error' : 'success'} duration=${secs} turns=${inlineField(String(e.num_turns ?? '?'))} cost=${cost}`;
      const lines = [head];
      if (isError && text) lines.push(...textLines('[error] ', text));
      return { sessionId, lines, result: { isError, text }, usage: resultUsage(e) };
    }
    default:
      return { sessionId, lines: [] };
  }
}
