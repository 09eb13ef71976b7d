/**
 * The argv of each agent CLI, in one place. Every client-supplied value is a
 * single argv element (never a shell string), and positional text always
 * follows `--` so a task that starts with "-" cannot be read as a flag.
 */
import type { AgentKind, AgentMode } from './protocol';

export const CLAUDE_SYSTEM_PROMPT = 'You are running under agentvisor on behalf of an MCP client. Work only inside your current working directory; do not read or change files outside it.';

export interface TurnCommand {
  args: string[];
  /** Pipes with stream-json (Claude) or a terminal (Codex). */
  pty: boolean;
}

export interface CommandOptions {
  model: string | null;
  mode: AgentMode;
  /** Claude's own spend cap (--max-budget-usd, print mode only): a second stop beside the worker's (issue 18). */
  maxBudgetUsd?: number | null;
  /** The client's developer instructions (session_start `instructions`), added to agentvisor's own. */
  instructions?: string | null;
}

/** Claude's appended system prompt: agentvisor's own, then the client's instructions under a header of their own. */
export function claudeSystemPrompt(instructions: string | null | undefined): string {
  return instructions ? `${CLAUDE_SYSTEM_PROMPT}\n\n# Instructions from the client that started this session\n\n${instructions}` : CLAUDE_SYSTEM_PROMPT;
}

/**
 * `-c developer_instructions=…` for `codex exec`: the config key app-server's `developerInstructions`
 * sets. The value is parsed as TOML; a JSON string is a valid TOML basic string (JSON escapes are TOML's).
 */
export function codexInstructionsOverride(instructions: string | null | undefined): string[] {
  return instructions ? ['-c', `developer_instructions=${JSON.stringify(instructions)}`] : [];
}

function claudeArgs(opts: CommandOptions, resumeId: string | null): string[] {
  // --replay-user-messages: Claude echoes each stdin message (with the uuid we gave it) when it
  // takes it up. A message sent while Claude is working through tool calls is folded into the
  // running turn, and that turn's one `result` answers both: counting results alone would wait
  // for a second result that never comes. The echoes say which messages a result answers.
  const args = ['--print', '--verbose', '--output-format', 'stream-json', '--input-format', 'stream-json', '--replay-user-messages'];
  if (opts.mode === 'full') args.push('--dangerously-skip-permissions');
  // ask (issue 15): Claude asks before each tool use, as control_request lines on stdout, answered on stdin (drivers/claudeApprovals.ts).
  // No setting sources and only agentvisor's MCP config (none): a repo's or the user's permissions.allow rules and
  // hooks would answer before the prompt tool is asked, and the user's MCP servers (agentvisor itself, maybe) would load.
  else if (opts.mode === 'ask') args.push('--permission-mode', 'default', '--permission-prompt-tool', 'stdio', '--setting-sources', '', '--strict-mcp-config');
  else args.push('--permission-mode', opts.mode === 'edit' ? 'acceptEdits' : 'plan');
  if (opts.model) args.push('--model', opts.model);
  if (opts.maxBudgetUsd) args.push('--max-budget-usd', String(Math.round(opts.maxBudgetUsd * 10_000) / 10_000));
  if (resumeId) args.push('--resume', resumeId);
  args.push('--append-system-prompt', claudeSystemPrompt(opts.instructions));
  return args;
}

function codexArgs(opts: CommandOptions, prompt: string, resumeId: string | null): string[] {
  const args: string[] = [];
  if (opts.mode === 'full') args.push('--yolo');
  else args.push('--sandbox', opts.mode === 'edit' ? 'workspace-write' : 'read-only', '--ask-for-approval', 'never');
  if (opts.model) args.push('--model', opts.model);
  args.push(...codexInstructionsOverride(opts.instructions));
  // Codex 0.169 enables `unbounded_connection_retries` by default: with its model server
  // unreachable it prints "Reconnecting... waiting for network" with growing backoff and never
  // ends, whatever the provider's request_max_retries says. Unattended, that is a session that
  // hangs without end; disabled, Codex retries as its provider is configured, then exits 1 with
  // "Connection failed", and the thread can still be continued by a later message.
  args.push('--disable', 'unbounded_connection_retries');
  // --skip-git-repo-check: agentvisor never git-inits a user's directory behind their back.
  args.push('exec', '--skip-git-repo-check');
  if (resumeId) args.push('resume', resumeId);
  args.push('--', prompt);
  return args;
}

/**
 * The command for one agent process. For Claude the prompt travels on stdin as
 * stream-json, so it is not in argv; for Codex it is the final argv element.
 */
export function turnCommand(agent: AgentKind, opts: CommandOptions, prompt: string, resumeId: string | null): TurnCommand {
  return agent === 'claude-code' ? { args: claudeArgs(opts, resumeId), pty: false } : { args: codexArgs(opts, prompt, resumeId), pty: true };
}

/** One stream-json user message line for Claude's stdin; `uuid` comes back in Claude's echo of it. */
export function claudeUserMessage(text: string, uuid?: string): string {
  return JSON.stringify({ type: 'user', message: { role: 'user', content: text }, ...(uuid ? { uuid } : {}) }) + '\n';
}
