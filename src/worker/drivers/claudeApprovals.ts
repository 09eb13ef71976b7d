/**
 * Claude Code's permission requests in mode `ask` (issue 15). Started with `--permission-mode
 * default --permission-prompt-tool stdio`, Claude 2.1.x prints, on stdout,
 *   {"type":"control_request","request_id":R,"request":{"subtype":"can_use_tool","tool_name":"Bash",
 *    "input":{…},"description":"…","permission_suggestions":[{"type":"addRules","rules":[{"toolName":"Bash",
 *    "ruleContent":"echo hi *"}],…}],"blocked_path":"…","tool_use_id":"…"}}
 * and waits for a `control_response` on stdin: allow with `updatedInput` (the input to run), or deny
 * with a message the model sees as the tool's error result. Checked against the scripted model.
 * `control_cancel_request {request_id}` withdraws one. The agent is hostile input: every field is
 * checked, and what is kept of the request is bounded.
 */
import crypto from 'node:crypto';
import { inlineField } from '../../shared/sanitize';
import type { ApprovalAnswer, ApprovalKind, ApprovalRequest, SessionScope } from './driver';
import { boundedRequest, shownPath } from './shared';

/** A summary is one line for a person. */
const MAX_SUMMARY_CHARS = 300;

const FILE_TOOLS: Record<string, string> = { Write: 'file_path', Edit: 'file_path', MultiEdit: 'file_path', NotebookEdit: 'notebook_path' };

/** A control line from Claude, as the driver must act on it. */
export type ClaudeControl =
  | { type: 'canUseTool'; requestId: string; toolName: string; input: Record<string, unknown>; approval: Omit<ApprovalRequest, 'approvalId'> }
  | { type: 'otherRequest'; requestId: string; subtype: string }
  | { type: 'cancel'; requestId: string };

function record(v: unknown): Record<string, unknown> | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** Claude's suggested addRules rules for this tool: `{ruleContent}` absent means the whole tool. */
function suggestedRules(toolName: string, suggestions: unknown): Array<string | null> {
  const out: Array<string | null> = [];
  for (const s of Array.isArray(suggestions) ? suggestions : []) {
    const rules = record(s)?.rules;
    for (const r of Array.isArray(rules) ? rules : []) {
      const rule = record(r);
      if (rule?.toolName === toolName) out.push(typeof rule.ruleContent === 'string' ? rule.ruleContent : rule.ruleContent === undefined ? null : '');
    }
  }
  return out;
}

/**
 * What allow_for_session grants (driver.ts SessionScope), never wider than Claude's own suggestion
 * and the request: a Bash wildcard rule that fits is a prefix (`npm test:*`, `echo hi *`), else the
 * exact command; a file tool covers that file; another tool the whole tool only when Claude suggests
 * a rule without content, else exactly this input.
 */
function sessionScope(toolName: string, input: Record<string, unknown>, command: string | undefined, suggestions: unknown): SessionScope {
  const rules = suggestedRules(toolName, suggestions);
  if (command !== undefined) {
    for (const rule of rules) {
      const m = rule !== null ? /^(.*?)(?::\*| \*)$/.exec(rule) : null;
      const prefix = m?.[1]?.trim();
      if (prefix && (command.trim() === prefix || command.trim().startsWith(prefix + ' '))) return { tool: toolName, match: 'commandPrefix', value: prefix };
    }
    return { tool: toolName, match: 'command', value: command };
  }
  const key = FILE_TOOLS[toolName];
  const file = key !== undefined ? input[key] : undefined;
  if (typeof file === 'string' && file) return { tool: toolName, match: 'file', value: file };
  if (key === undefined && rules.includes(null)) return { tool: toolName, match: 'tool', value: '' };
  return { tool: toolName, match: 'input', value: crypto.createHash('sha256').update(JSON.stringify(input)).digest('hex') };
}

function describe(toolName: string, input: Record<string, unknown>, description: unknown, cwd: string): { kind: ApprovalKind; summary: string; command?: string } {
  const tool = inlineField(toolName);
  if (toolName === 'Bash' && typeof input.command === 'string') {
    return { kind: 'command', summary: `Bash: ${inlineField(input.command)}`, command: input.command };
  }
  const key = FILE_TOOLS[toolName];
  if (key !== undefined) {
    const file = input[key];
    return { kind: 'file_change', summary: typeof file === 'string' ? `${tool} ${inlineField(shownPath(file, cwd))}` : tool };
  }
  return { kind: 'tool', summary: typeof description === 'string' && description ? `${tool}: ${inlineField(description)}` : tool };
}

/** Reads a stdout line that may be a control message; null for anything else (the formatter's). */
export function parseClaudeControl(line: string, cwd = ''): ClaudeControl | null {
  if (!line.includes('"control_')) return null; // cheap: most lines are not
  let msg: Record<string, unknown> | null;
  try {
    msg = record(JSON.parse(line));
  } catch {
    return null;
  }
  if (!msg || typeof msg.request_id !== 'string' || !msg.request_id) return null;
  const requestId = msg.request_id;
  if (msg.type === 'control_cancel_request') return { type: 'cancel', requestId };
  if (msg.type !== 'control_request') return null;
  const req = record(msg.request);
  const subtype = typeof req?.subtype === 'string' ? req.subtype : '?';
  const input = record(req?.input);
  if (subtype !== 'can_use_tool' || typeof req?.tool_name !== 'string' || !input) return { type: 'otherRequest', requestId, subtype };
  const toolName = req.tool_name;
  const d = describe(toolName, input, req.description, cwd);
  const approval: Omit<ApprovalRequest, 'approvalId'> = {
    kind: d.kind,
    summary: cut(d.summary, MAX_SUMMARY_CHARS),
    request: boundedRequest({ toolName, input, description: req.description ?? null, blockedPath: req.blocked_path ?? null }),
    decisions: ['allow', 'allow_for_session', 'deny'],
    tool: toolName,
    ...(d.command !== undefined ? { command: d.command } : {}),
    // Claude forgets a grant made over this protocol: the worker remembers it (approvals.ts).
    sessionScope: sessionScope(toolName, input, d.command, req.permission_suggestions),
  };
  return { type: 'canUseTool', requestId, toolName, input, approval };
}

/** Claude's answer line: allow runs the original input unchanged; deny carries the message the model sees. */
export function claudePermissionResponse(requestId: string, input: Record<string, unknown>, answer: ApprovalAnswer): string {
  const response = answer.decision === 'deny' ? { behavior: 'deny', message: answer.message?.trim() ? answer.message : 'The user denied this request.' } : { behavior: 'allow', updatedInput: input };
  return JSON.stringify({ type: 'control_response', response: { subtype: 'success', request_id: requestId, response } }) + '\n';
}

/** The answer to a control request agentvisor does not serve: an error at once, so Claude never waits on it. */
export function claudeControlError(requestId: string, subtype: string): string {
  return JSON.stringify({ type: 'control_response', response: { subtype: 'error', request_id: requestId, error: `agentvisor does not serve control request ${cut(subtype, 100)}` } }) + '\n';
}
